"""Imports run down the layers of mmpixpro, and no two parts import each
other (docs/en/notes/development.md, "Import layers").

Every module of the package is parsed (``ast``, nothing imported): each
``import`` / ``from ... import`` statement, at the top of a file or inside a
function, a class or an ``if``, and each ``import_module('mmpixpro...')`` /
``__import__`` of a literal name, is an arrow from the part of the package
that holds the file to the part it names. A part is a subpackage
(``engine``) or a module at the top (``registry.py``; ``__init__.py`` is
``mmpixpro`` itself). An arrow may point into its own part or to a part of a
lower layer only.
"""

import ast
import os
import os.path as osp
from typing import Dict, Iterator, List, Optional, Tuple

from conftest import REPO

PACKAGE = osp.join(REPO, 'mmpixpro')

# Lowest first. Parts on one line do not import each other.
LAYERS = (
    ('version', 'registry'),  # import nothing of mmpixpro
    ('utils',),  # general helpers; register_all_modules reads the registry
    ('packaging',),  # the mmpixpro:: config prefix
    ('mmpixpro',),  # the package's __init__.py
    ('datasets', 'models'),
    ('engine',),  # training and the robustness layer of runs
    ('benchmarks',),  # transfer fine-tuning, semi_coco
    ('apis',),  # use a trained model
    ('analysis', 'visualization'),
    ('testing',),  # scaffolding for tests and the demo
)
LAYER_OF = {part: i for i, parts in enumerate(LAYERS) for part in parts}

Arrow = Tuple[str, int, str]  # (file relative to the repository, line, module)


def modules() -> Iterator[Tuple[str, str]]:
    """``(path, dotted name)`` of every module of the package."""
    for folder, subfolders, files in os.walk(PACKAGE):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(('.', '_')))
        for name in sorted(files):
            if name.endswith('.py'):
                path = osp.join(folder, name)
                dotted = osp.relpath(path[:-3], REPO).replace(os.sep, '.')
                yield path, dotted.removesuffix('.__init__')


def part_of(module: str) -> str:
    """The part of the package that ``module`` (``mmpixpro...``) is in."""
    names = module.split('.')
    return names[1] if len(names) > 1 else 'mmpixpro'


def literal_import(node: ast.AST) -> Optional[str]:
    """The module of ``import_module('...')`` / ``__import__('...')``."""
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, 'id', None)
    first = node.args[0]
    if name in ('import_module', '__import__') and isinstance(first, ast.Constant):
        return first.value if isinstance(first.value, str) else None
    return None


def imports(path: str, module: str) -> Iterator[Tuple[int, str]]:
    """``(line, imported module)`` of every import in the file, anywhere."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    package = module if path.endswith('__init__.py') else module.rpartition('.')[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . / .. / .name
                base = package.split('.')[: len(package.split('.')) - node.level + 1]
                target = '.'.join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            if target == 'mmpixpro':  # `from mmpixpro import engine`: the part
                for alias in node.names:
                    yield node.lineno, f'mmpixpro.{alias.name}'
            else:
                yield node.lineno, target
        else:
            target = literal_import(node)
            if target is not None:
                yield node.lineno, target


def arrows() -> Dict[Tuple[str, str], List[Arrow]]:
    """``{(from part, to part): [(file, line, module), ...]}`` between parts."""
    found: Dict[Tuple[str, str], List[Arrow]] = {}
    for path, module in modules():
        source = part_of(module)
        for line, target in imports(path, module):
            if target.split('.')[0] != 'mmpixpro':
                continue
            if (
                target == 'mmpixpro'
                or osp.exists(osp.join(REPO, *target.split('.')[:2]) + '.py')
                or osp.isdir(osp.join(REPO, *target.split('.')[:2]))
            ):
                destination = part_of(target)
            else:
                destination = 'mmpixpro'  # a name of the package's __init__
            if destination != source:
                place = (osp.relpath(path, REPO), line, target)
                found.setdefault((source, destination), []).append(place)
    return found


def where(places: List[Arrow]) -> str:
    return ', '.join(f'{path}:{line} ({target})' for path, line, target in places)


def test_every_part_of_the_package_has_a_layer():
    parts = {part_of(module) for _, module in modules()}
    assert parts - set(LAYER_OF) == set(), (
        'parts of mmpixpro without a layer: give them one in LAYERS and in '
        'docs/en/notes/development.md'
    )


def test_imports_run_down_the_layers():
    upward = [
        f'{where(places)}: {source} (layer {LAYER_OF.get(source)}) imports '
        f'{destination} (layer {LAYER_OF.get(destination)})'
        for (source, destination), places in sorted(arrows().items())
        if LAYER_OF.get(destination, -1) >= LAYER_OF.get(source, -1)
    ]
    assert not upward, 'imports from a layer not below:\n' + '\n'.join(upward)


def cycle(graph: Dict[str, List[str]]) -> Optional[List[str]]:
    """One cycle of ``graph`` as a list of parts (first == last), or None."""
    state: Dict[str, int] = {}  # 1: on the current path, 2: done
    path: List[str] = []

    def visit(node: str) -> Optional[List[str]]:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_two_parts_import_each_other():
    found = arrows()
    graph: Dict[str, List[str]] = {}
    for source, destination in sorted(found):
        graph.setdefault(source, []).append(destination)
    circle = cycle(graph)
    assert circle is None, 'a cycle between parts of mmpixpro:\n' + '\n'.join(
        f'{a} -> {b}: {where(found[a, b])}' for a, b in zip(circle, circle[1:])
    )


def test_the_checks_see_what_they_check(tmp_path):
    """The parser finds imports inside functions, relative ones and literal
    ``import_module`` names; the cycle finder finds a cycle."""
    source = tmp_path / 'mod.py'
    source.write_text(
        'import os\n'
        'from . import sibling\n'
        'def f():\n'
        '    from ..engine import run_args\n'
        '    import mmpixpro.apis\n'
        "    importlib.import_module('mmpixpro.testing')\n"
    )
    found = list(imports(str(source), 'mmpixpro.utils.mod'))
    assert found == [
        (1, 'os'),
        (2, 'mmpixpro.utils'),
        (4, 'mmpixpro.engine'),
        (5, 'mmpixpro.apis'),
        (6, 'mmpixpro.testing'),
    ]
    assert [part_of(m) for _, m in found[1:]] == ['utils', 'engine', 'apis', 'testing']
    assert cycle({'a': ['b'], 'b': ['c'], 'c': ['a']}) == ['a', 'b', 'c', 'a']
    assert cycle({'a': ['b'], 'b': ['c']}) is None
