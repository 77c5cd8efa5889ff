from .data_preprocessor import PixProDataPreprocessor

__all__ = ['PixProDataPreprocessor']
