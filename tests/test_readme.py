"""The README and the documentation name what exists.

Every relative link (and its ``#anchor``), every repository path, every
config or script file name, every ``make`` target, every tool option and
every ``mim run`` tool named in ``README.md``, ``configs/selfsup/README.md``
and the pages under ``docs/en/`` exists: a renamed tool, config, option or
page is caught. ``CHANGELOG.md`` is history (it names files that were
renamed since) and is only checked for its links.
"""

import glob
import itertools
import os
import re

import pytest
from conftest import REPO

PAGES = sorted(
    ['README.md', os.path.join('configs', 'selfsup', 'README.md')]
    + [
        os.path.relpath(p, REPO)
        for p in glob.glob(
            os.path.join(REPO, 'docs', 'en', '**', '*.md'), recursive=True
        )
    ]
)
TOPS = r'(?:tools|configs|mmpixpro|tests|demo|requirements|docs|\.dev_scripts|\.ci)'
PATH = re.compile(
    r'(?<![\w/.:{-])(' + TOPS + r'/[\w./+{},-]*\w\.(?:py|sh|txt|yml|md|png|json))\b'
)
NAME = re.compile(r'`([\w.+{},-]+\.py)`')
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)\)')
FENCE = re.compile(r'^```[^\n]*\n(.*?)^```', re.S | re.M)
TOOL = re.compile(r'(?:^|\s)((?:tools|\.dev_scripts)/[\w/]+\.py)\b')
OPTION = re.compile(r'(?<![\w-])(--[a-z][\w-]*)')
BRACES = re.compile(r'\{([^{}]*,[^{}]*)\}')
PLACEHOLDER = re.compile(r'(^|/)[A-Z][A-Z0-9_]*\.\w+$')


def read(page: str) -> str:
    with open(os.path.join(REPO, page), encoding='utf-8') as f:
        return f.read()


def expand(text: str) -> list:
    """Shell brace expansion: ``a_{1,10}pct.py`` -> ``a_1pct.py``, ``a_10pct.py``."""
    parts = BRACES.split(text)
    choices = [[p] if i % 2 == 0 else p.split(',') for i, p in enumerate(parts)]
    return [''.join(c) for c in itertools.product(*choices)]


def slug(heading: str) -> str:
    """The anchor GitHub and MyST give a heading."""
    return re.sub(r'[^\w\- ]', '', heading.strip().lower()).replace(' ', '-')


def anchors(path: str) -> set:
    text = FENCE.sub('', open(path, encoding='utf-8').read())
    return {slug(m) for m in re.findall(r'^#{1,6} (.+)$', text, re.M)}


def project_files() -> set:
    names = {'setup.py'}
    for top in ('configs', 'tools', 'mmpixpro', 'tests', '.dev_scripts'):
        pattern = os.path.join(REPO, top, '**', '*.py')
        names |= {os.path.basename(f) for f in glob.glob(pattern, recursive=True)}
    return names


def test_pages_are_found():
    assert 'docs/en/index.md' in PAGES and 'docs/en/get_started.md' in PAGES
    assert len(PAGES) >= 10


def test_readme_is_short():
    assert len(read('README.md').splitlines()) <= 250


def test_the_readme_gives_the_two_commands():
    """``.ci/run`` calls ``make test``; the README says so in these words."""
    text = read('README.md')
    assert 'make demo   # pre-train PixPro on the 12 bundled photos' in text
    make_test = 'make test   # lint + the test suite (CPU; make test-all adds the heavy'
    assert make_test in text
    with open(os.path.join(REPO, '.ci', 'run')) as f:
        assert 'make test' in f.read()


@pytest.mark.parametrize('page', PAGES + ['CHANGELOG.md'])
def test_every_relative_link_exists(page):
    base = os.path.dirname(os.path.join(REPO, page))
    missing = []
    for target in LINK.findall(read(page)):
        if re.match(r'[a-z]+:', target):  # https:, mailto:
            continue
        path, _, anchor = target.partition('#')
        full = os.path.normpath(os.path.join(base, path or os.path.basename(page)))
        if not os.path.exists(full):
            missing.append(target)
        elif anchor and full.endswith('.md') and anchor not in anchors(full):
            missing.append(target)
    assert missing == []


def exists_or_placeholder(path: str) -> bool:
    """The path exists, or it is ``FOLDER/CONFIG.py`` with FOLDER existing."""
    full = os.path.join(REPO, path)
    if os.path.exists(full):
        return True
    return bool(PLACEHOLDER.search(path)) and os.path.isdir(os.path.dirname(full))


@pytest.mark.parametrize('page', PAGES)
def test_every_path_exists(page):
    paths = {p for m in PATH.findall(read(page)) for p in expand(m)}
    missing = sorted(p for p in paths if not exists_or_placeholder(p))
    assert missing == []


def test_the_path_pattern_finds_paths():
    text = read('docs/en/notes/performance.md') + read('docs/en/get_started.md')
    assert '.dev_scripts/speed.py' in PATH.findall(text)
    assert 'tools/install.sh' in PATH.findall(text)
    assert expand('a_{1,10}pct.py') == ['a_1pct.py', 'a_10pct.py']
    assert exists_or_placeholder('configs/benchmarks/mmdet/CONFIG.py')
    assert not exists_or_placeholder('configs/nowhere/CONFIG.py')
    assert not exists_or_placeholder('tools/misc/missing_tool.py')


@pytest.mark.parametrize('page', PAGES)
def test_every_file_name_exists(page):
    names = {n for m in NAME.findall(read(page)) for n in expand(m)}
    assert sorted(names - project_files()) == []


def test_the_name_pattern_finds_configs():
    names = NAME.findall(read('configs/selfsup/README.md'))
    assert 'pixpro_r50_c5_8xb128-coslr-100e_in1k.py' in names


@pytest.mark.parametrize('page', PAGES)
def test_every_make_target_exists(page):
    with open(os.path.join(REPO, 'Makefile')) as f:
        targets = set(re.findall(r'^([\w-]+):', f.read(), re.M))
    named = set(re.findall(r'`make ([\w-]+)`|^make ([\w-]+)', read(page), re.M))
    named = {a or b for a, b in named}
    assert sorted(named - targets) == []


def option_sources() -> str:
    """Every place a command-line option is defined."""
    files = []
    for top in ('tools', 'mmpixpro', '.dev_scripts'):
        for ext in ('py', 'sh'):
            pattern = os.path.join(REPO, top, '**', f'*.{ext}')
            files += glob.glob(pattern, recursive=True)
    return '\n'.join(open(f, encoding='utf-8').read() for f in files)


def tool_options(text: str) -> list:
    """``(tool, option)`` of every option on a command line of a Python tool
    in the code blocks of ``text``."""
    found = []
    for block in FENCE.findall(text):
        for line in block.replace('\\\n', ' ').splitlines():
            tools = TOOL.findall(line)
            if tools and not line.lstrip().startswith('#'):
                found += [(tools[0], o) for o in OPTION.findall(line.split('#')[0])]
    return found


def test_the_option_pattern_finds_options():
    found = tool_options(read('docs/en/user_guides/semi_coco.md'))
    assert ('tools/misc/split_coco.py', '--percents') in found
    assert ('tools/analysis/aggregate_folds.py', '--root') in found


@pytest.mark.parametrize('page', PAGES)
def test_every_tool_option_exists(page):
    """An option on a command line of a Python tool is one the tool (or the
    project's shared argument code) defines."""
    sources = option_sources()
    unknown = []
    for tool, option in tool_options(read(page)):
        assert os.path.exists(os.path.join(REPO, tool)), tool
        own = open(os.path.join(REPO, tool), encoding='utf-8').read()
        if f"'{option}'" not in own and f"'{option}'" not in sources:
            unknown.append(f'{tool} {option}')
    assert unknown == []


@pytest.mark.parametrize('page', PAGES)
def test_every_mim_tool_exists(page):
    """``mim run mmpixpro NAME`` runs ``tools/**/NAME.py``; ``DIR:NAME``
    names ``tools/DIR/NAME.py``."""
    missing = []
    for name in set(
        re.findall(r'mim run mmpixpro ([a-z][\w-]*(?::[\w-]+)?)', read(page))
    ):
        folder, _, script = name.rpartition(':')
        pattern = os.path.join(REPO, 'tools', folder or '**', f'{script}.py')
        if not glob.glob(pattern, recursive=True):
            missing.append(name)
    assert missing == []


def test_license_and_citation_agree():
    """LICENSE is the Apache-2.0 text setup.py declares; CITATION.cff and the
    README's BibTeX cite the same paper."""
    import yaml

    license_text = read('LICENSE')
    assert (
        'Apache License' in license_text and 'Version 2.0, January 2004' in license_text
    )
    assert 'END OF TERMS AND CONDITIONS' in license_text  # the full text
    assert "license='Apache License 2.0'" in read('setup.py')
    cff = yaml.safe_load(read('CITATION.cff'))
    assert cff['cff-version'] == '1.2.0' and cff['license'] == 'Apache-2.0'
    paper = cff['preferred-citation']
    bibtex = FENCE.findall(read('README.md').split('## Citation', 1)[1])[0]
    assert ' '.join(paper['title'].split()) in ' '.join(bibtex.split())
    for author in paper['authors']:
        assert f'{author["family-names"]}, {author["given-names"]}' in bibtex
    assert f'year      = {{{paper["year"]}}}' in bibtex
    assert f'{paper["start"]}--{paper["end"]}' in bibtex
    assert bibtex in read('configs/selfsup/README.md')


# -- the short commands, run as written ---------------------------------------
# Commands of the pages' ```bash blocks that run in seconds without data:
# printing configs, the model index, the package's folder.
SHORT = re.compile(
    r'^(?:\.venv/bin/python |python )(?:tools/misc/print_config\.py |-c )'
    r'|^mim (?:search mmpixpro|run mmpixpro print_config) '
)
# A placeholder (CONFIG, PIXPRO.pth), an optional part ([--x ...]) or an
# output redirection: an example to adapt, not a command to run as written.
ADAPT = re.compile(r'\b[A-Z][A-Z0-9_]{2,}\b|\[|>')
# Changes the environment (tools/install.sh runs it; tests/test_packaging.py
# tests it in a throwaway environment).
ENVIRONMENT = ('link_editable_install',)


def short_commands() -> list:
    commands = []
    for page in PAGES:
        for lang, block in re.findall(r'^```(\w*)\n(.*?)^```', read(page), re.S | re.M):
            if lang != 'bash':
                continue
            for line in block.replace('\\\n', ' ').splitlines():
                command = line.split(' #')[0].strip()
                if not SHORT.match(command) or ADAPT.search(command):
                    continue
                if not any(word in command for word in ENVIRONMENT):
                    commands.append((page, command))
    return commands


def python_examples() -> list:
    """```python blocks that use the API on the bundled photos."""
    return [
        (page, block)
        for page in PAGES
        for block in re.findall(r'^```python\n(.*?)^```', read(page), re.S | re.M)
        if block.startswith('from mmpixpro.apis import')
    ]


def test_the_short_commands_are_found():
    commands = [c for _, c in short_commands()]
    assert 'mim search mmpixpro --field config' in commands
    assert any(
        'print_config.py pixpro_r50_c5_8xb128-coslr-100e_in1k' in c for c in commands
    )
    assert not any('CONFIG' in c or '>' in c for c in commands)
    assert len(python_examples()) >= 1


def shell_env() -> dict:
    """The shell of the README: the project's .venv first on PATH."""
    path = os.path.join(REPO, '.venv', 'bin') + os.pathsep + os.environ['PATH']
    return dict(os.environ, PATH=path)


@pytest.mark.parametrize(
    'page, command', short_commands(), ids=[c[-60:] for _, c in short_commands()]
)
def test_a_short_command_runs_as_written(page, command):
    import subprocess

    result = subprocess.run(
        ['bash', '-c', command],
        cwd=REPO,
        env=shell_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, f'{page}: {command}\n{out[-3000:]}'
    assert 'Traceback' not in out


@pytest.mark.parametrize('page, code', python_examples())
def test_a_python_example_runs_as_written(page, code):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, '-c', code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f'{page}:\n{result.stderr[-3000:]}'
