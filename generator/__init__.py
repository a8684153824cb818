"""kb: a static-site generator for community knowledge bases and weekly digests."""

__version__ = "0.1.0"
