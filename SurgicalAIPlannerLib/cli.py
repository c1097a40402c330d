"""``surgical-planner`` command line. Each concern registers its own subcommands.

To add commands, write ``register(subparsers)`` in a module of your concern and name that module in
``COMMAND_MODULES``. A command function takes the parsed arguments and returns an exit status.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from . import __version__
from .imaging.errors import ImageLoadError

COMMAND_MODULES = (
    "SurgicalAIPlannerLib.imaging.commands",
    "SurgicalAIPlannerLib.demo",
    "SurgicalAIPlannerLib.planning.commands",
    "SurgicalAIPlannerLib.segmentation.commands",
    "SurgicalAIPlannerLib.web.commands",
    "SurgicalAIPlannerLib.pacs.commands",
    "SurgicalAIPlannerLib.governance.commands",
    "SurgicalAIPlannerLib.export.commands",
    "SurgicalAIPlannerLib.landmarks.commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="surgical-planner", description="AI-assisted orthopedic surgery planning")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s")
    try:
        return int(args.run(args) or 0)
    except (ImageLoadError, FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
