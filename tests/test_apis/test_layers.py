"""Imports run down the layers of the package, never back up.

The training core knows nothing of the layers that use a trained model;
``benchmarks`` (fine-tuning) builds on the core; ``apis`` (use a trained
model) on the core and ``benchmarks``' checkpoint loading; ``visualization``
and ``analysis`` on ``apis``, neither on the other. A story that uses several
of them (the demo) is a tool's. Read from the source (every ``import`` of
every module, relative ones resolved), so an import inside a function counts
too.
"""

import ast
import os

from conftest import REPO

PACKAGE = os.path.join(REPO, 'mmpixpro')
CORE = {'registry', 'datasets', 'models', 'engine', 'utils', 'packaging', 'version'}
# what each part must not import
FORBIDDEN = {
    **{
        part: {'benchmarks', 'apis', 'visualization', 'analysis', 'testing'}
        for part in CORE
    },
    'benchmarks': {'apis', 'visualization', 'analysis'},
    'apis': {'visualization', 'analysis', 'testing'},
    'visualization': {'analysis', 'testing'},
    'analysis': {'visualization', 'testing'},
}


def imported_parts(path: str, package: list) -> set:
    """The top-level parts of mmpixpro that the module at ``path`` imports."""
    names = []
    for node in ast.walk(ast.parse(open(path, encoding='utf-8').read())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the module's package
                base = package[: len(package) - node.level + 1]
                module = '.'.join(base + ([node.module] if node.module else []))
                names += (
                    [module]
                    if node.module
                    else [f'{module}.{alias.name}' for alias in node.names]
                )
            else:
                names.append(node.module or '')
    return {n.split('.')[1] for n in names if n.startswith('mmpixpro.')}


def import_graph() -> dict:
    graph = {}
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if not name.endswith('.py'):
                continue
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, PACKAGE).split(os.sep)
            part = rel[0] if len(rel) > 1 else rel[0][: -len('.py')]
            package = ['mmpixpro'] + rel[:-1]
            graph.setdefault(part, set()).update(imported_parts(path, package) - {part})
    return graph


def test_the_graph_is_read():
    graph = import_graph()
    assert 'apis' in graph['visualization'] and 'apis' in graph['analysis']
    assert 'registry' in graph['models']


def test_imports_run_down_the_layers():
    graph = import_graph()
    wrong = {
        part: sorted(graph.get(part, set()) & forbidden)
        for part, forbidden in FORBIDDEN.items()
        if graph.get(part, set()) & forbidden
    }
    assert wrong == {}
