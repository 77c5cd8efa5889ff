from .pixpro_loss import PixProLoss, pairwise_cosine

__all__ = ['PixProLoss', 'pairwise_cosine']
