"""One module per `studio` subcommand: `add_parser(sub)` and `run(args)`.

Commands are thin: they parse arguments, call a workflow (`studio.workflows`, the
use cases the window calls too) and print.
"""
