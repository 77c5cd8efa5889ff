"""The model index names the paper as ``mim search`` shows it: its title and
its arXiv address, for every entry."""

import os.path as osp

import yaml
from conftest import REPO

TITLE = (
    'Propagate Yourself: Exploring Pixel-Level Consistency for Unsupervised '
    'Visual Representation Learning'
)
URL = 'https://arxiv.org/abs/2011.10043'


def test_every_collection_names_the_paper_as_title_and_url():
    with open(osp.join(REPO, 'model-index.yml')) as f:
        metafiles = yaml.safe_load(f)['Import']
    collections = []
    for metafile in metafiles:
        with open(osp.join(REPO, metafile)) as f:
            collections += yaml.safe_load(f)['Collections']
    assert collections
    for collection in collections:
        assert collection['Paper'] == [TITLE, URL], collection['Name']


def test_mim_search_shows_title_and_url():
    from mim.commands.search import convert2df
    from modelindex.load_model_index import load

    table = convert2df(load(osp.join(REPO, 'model-index.yml')))
    assert len(table) > 0
    for name, paper in table['paper'].items():
        assert TITLE in paper and URL in paper, (name, paper)
