from .organisations import Organisation

__all__ = ["Organisation"]
