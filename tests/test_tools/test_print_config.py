"""print_config prints the whole merged config, which reads back the same."""

import pytest
from conftest import DEMO_CONFIG
from helpers import load_tool
from mmengine.config import Config


def test_prints_the_merged_config_with_options(tmp_path, capsys):
    tool = load_tool('tools/misc/print_config.py')
    tool.main([DEMO_CONFIG, '--cfg-options', 'model.head.pos_threshold=0.5'])
    text = capsys.readouterr().out
    (tmp_path / 'printed.py').write_text(text)
    printed = Config.fromfile(str(tmp_path / 'printed.py'))
    expected = Config.fromfile(DEMO_CONFIG)
    expected.merge_from_dict({'model.head.pos_threshold': 0.5})
    assert '_base_' not in text  # every base merged in
    assert printed.to_dict() == expected.to_dict()
    assert printed.model.head.pos_threshold == 0.5
    assert printed.model.backbone.depth == 18  # from the demo file
    assert printed.model.type == 'PixPro'  # from its bases


def test_package_config_names_and_errors(capsys):
    tool = load_tool('tools/misc/print_config.py')
    tool.main(['mmpixpro::selfsup/pixpro_r18_c5_1xb4-coslr-40e_demo.py'])
    assert 'depth=18' in capsys.readouterr().out
    with pytest.raises(FileNotFoundError, match='nope.py'):
        tool.main(['configs/selfsup/nope.py'])
