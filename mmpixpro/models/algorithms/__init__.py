from .pixpro import PixPro

__all__ = ['PixPro']
