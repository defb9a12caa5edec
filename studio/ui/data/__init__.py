"""The Data panel: choose and inspect the project's dataset (see `panel.DataPanel`)."""
