"""One module per `studio` subcommand: `add_parser(sub)` and `run(args)`.

Commands are thin: they parse arguments, call the engine packages and print.
"""
