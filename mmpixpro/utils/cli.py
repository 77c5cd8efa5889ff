"""How a command line of this project ends on an error: one line.

An error a person can act on (a missing file, a wrong config or checkpoint,
a bad option value, and every error class of this project, whose messages
say what to do) ends the tool as ``<tool>: error: <message>`` on stderr,
exit status 2, as argparse ends on a bad option. ``--debug`` on the command
line, or ``MMPIXPRO_DEBUG=1`` in the environment, shows the traceback
instead. Any other exception (a bug, an interrupted run) keeps its traceback.

Under another project's ``train.py`` (mmdet's, mmseg's), which prints a
traceback, :func:`error_line_first` makes the message of a hook's error the
first line of it on stderr.

A few warnings of the libraries underneath say nothing about the run, yet
read as trouble; this project's command lines do not show them
(:data:`LIBRARY_NOISE`; docs/en/user_guides/downstream.md says what each
means where mmdet's / mmseg's own scripts print them).
"""

import argparse
import os
import os.path as osp
import re
import sys
import warnings
from contextlib import contextmanager
from typing import Callable, Optional, Sequence

DEBUG_ENV = 'MMPIXPRO_DEBUG'
# Raised for what was given: files, configs, checkpoints, option values.
GIVEN = (OSError, ValueError, KeyError, TypeError, ImportError, SyntaxError)
# (category, start of the message) of library warnings about the libraries
# themselves, not the run.
LIBRARY_NOISE = (
    # setuptools >= 80.9 on importing pkg_resources, which mmengine's Config
    # does for `mmdet::` / `mmseg::` bases (tools/install.sh pins < 80.9)
    (UserWarning, 'pkg_resources is deprecated as an API'),
    # mmseg 1.2.2 building any decode head and its CrossEntropyLoss, and its
    # visualization hook with drawing off (the default)
    (UserWarning, '``build_loss`` would be deprecated soon'),
    (UserWarning, 'Default ``avg_non_ignore`` is False'),
    (UserWarning, 'The draw is False'),
    # mmdet 3.3's prior generators calling torch.meshgrid without indexing
    (UserWarning, 'torch.meshgrid: in an upcoming release'),
)


def quiet_library_noise() -> None:
    """Filter :data:`LIBRARY_NOISE` in this process (a command line's)."""
    for category, start in LIBRARY_NOISE:
        warnings.filterwarnings('ignore', message=re.escape(start), category=category)


def add_debug_arg(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--debug``: the traceback of an error instead of its one line."""
    parser.add_argument(
        '--debug',
        action='store_true',
        help=f'on an error show its traceback, not one line (or {DEBUG_ENV}=1)',
    )
    return parser


def is_users_error(error: BaseException) -> bool:
    """An error of what was given, or one of this project's errors."""
    return isinstance(error, GIVEN) or type(error).__module__.startswith('mmpixpro.')


def error_message(error: BaseException) -> str:
    """The text of ``error`` (a ``KeyError``'s without its quotes)."""
    if isinstance(error, KeyError) and len(error.args) == 1:
        return str(error.args[0])
    return str(error) or type(error).__name__


def debugging(argv: Optional[Sequence[str]] = None) -> bool:
    argv = sys.argv[1:] if argv is None else argv
    return '--debug' in argv or os.environ.get(DEBUG_ENV, '') not in ('', '0')


def tool_name() -> str:
    return osp.basename(sys.argv[0]) or 'mmpixpro'


def run_tool(main: Callable, argv: Optional[Sequence[str]] = None):
    """``main(argv)`` without :data:`LIBRARY_NOISE`; an error of
    :func:`is_users_error` ends the process with its one line (unless
    :func:`debugging`), status 2."""
    quiet_library_noise()
    try:
        return main(argv)
    except Exception as error:
        if debugging(argv) or not is_users_error(error):
            raise
        if not getattr(error, 'mmpixpro_said', False):
            print(f'{tool_name()}: error: {error_message(error)}', file=sys.stderr)
        sys.exit(2)


@contextmanager
def error_line_first():
    """Print the one line of a user's error on stderr before it propagates
    (the traceback that another project's script shows follows it);
    :func:`run_tool` does not print it again."""
    try:
        yield
    except Exception as error:
        if is_users_error(error) and not getattr(error, 'mmpixpro_said', False):
            print(f'{tool_name()}: error: {error_message(error)}', file=sys.stderr)
            sys.stderr.flush()
            try:
                error.mmpixpro_said = True
            except AttributeError:  # exception types without a __dict__
                pass
        raise
