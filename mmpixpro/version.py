"""Version of mmpixpro (read by setup.py without importing the package)."""

__version__ = '0.1.0'


def parse_version_info(version_str: str) -> tuple:
    """``'1.2.3'`` -> ``(1, 2, 3)``; ``'1.0.0rc1'`` -> ``(1, 0, 0, 'rc1')``."""
    info = []
    for part in version_str.split('.'):
        if part.isdigit():
            info.append(int(part))
        elif 'rc' in part:
            number, rc = part.split('rc', 1)
            info += [int(number), f'rc{rc}']
    return tuple(info)


version_info = parse_version_info(__version__)
