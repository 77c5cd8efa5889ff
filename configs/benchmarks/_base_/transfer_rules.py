# Loading rules of the transfer hook (model prefix <- checkpoint prefix): the
# backbone always; the FPN when the checkpoint has one (FPN pre-training).
# Shared by every benchmark config: the ResNet ones through
# pixpro_transfer.py, the Swin / ConvNeXt ones, which keep mmdet's / mmseg's
# own configs as they are, directly.
backbone_rule = dict(model='backbone.', checkpoint='backbone.', required=True)
neck_rule = dict(model='neck.', checkpoint='neck.')
# Checkpoints written as plain data with a digest of their tensors (they load
# with torch.load(weights_only=True) anywhere); last in every custom_hooks.
plain_checkpoint_hook = dict(type='mmpixpro.PlainCheckpointHook')
