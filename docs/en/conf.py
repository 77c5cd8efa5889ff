"""Sphinx configuration of mmpixpro's documentation (Markdown through MyST).

Build: ``make docs`` (warnings are errors), or
``python -m sphinx -W -b html docs/en build/docs/html``.
"""

import os.path as osp
import sys

DOCS = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(DOCS))
# The API page documents the package of this checkout, installed or not.
sys.path.insert(0, REPO)

namespace: dict = {}
with open(osp.join(REPO, 'mmpixpro', 'version.py')) as f:
    exec(f.read(), namespace)

project = 'mmpixpro'
author = 'the mmpixpro authors'
copyright = 'the mmpixpro authors, Apache License 2.0'
version = release = namespace['__version__']

extensions = [
    'myst_parser',
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
    'sphinx.ext.mathjax',
]
source_suffix = {'.md': 'markdown'}
root_doc = 'index'
exclude_patterns = ['_build']

# MyST: ``$...$`` maths, ``{include}`` of the repository's Markdown files,
# anchors for the headings the pages link to.
myst_enable_extensions = ['dollarmath', 'colon_fence']
myst_heading_anchors = 3

# autodoc: the public classes and functions, documented from their
# docstrings (Google style), in source order.
autodoc_member_order = 'bysource'
autodoc_typehints = 'description'
autodoc_default_options = {'show-inheritance': True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False

html_theme = 'furo'
html_title = f'mmpixpro {release}'
html_static_path = ['_static']
