"""Views share the image's immutable fields and copy the others."""

import numpy as np

from mmpixpro.datasets.transforms import MultiViewWithCoord
from mmpixpro.datasets.transforms.multi_view import view_fields


def test_view_fields_share_immutables_and_copy_the_rest():
    shared = dict(
        img_path='a.jpg',
        ori_shape=(3, 4),
        sample_idx=7,
        skipped=['x.jpg'],
        nested=((1, 2), 'b'),
        table=np.zeros(3),
    )
    view = view_fields(shared)
    assert view == {k: view[k] for k in shared} and view.keys() == shared.keys()
    for key in ('img_path', 'ori_shape', 'sample_idx', 'nested'):
        assert view[key] is shared[key]
    assert view['skipped'] == shared['skipped']
    assert view['skipped'] is not shared['skipped']
    assert view['table'] is not shared['table']


def test_a_view_writing_a_mutable_field_does_not_reach_the_next_view():
    class Append:
        def __call__(self, results):
            results['log'].append(len(results['log']))
            results['coord'] = np.zeros(4, np.float32)
            return results

    multi = MultiViewWithCoord(transforms=[[]], num_views=2)
    multi.transforms = [Append(), Append()]
    out = multi(dict(img=np.zeros((4, 4, 3), np.uint8), log=[]))
    assert out['coord'][0].shape == (4,)
    assert out['log'] == []  # each view wrote into its own copy
