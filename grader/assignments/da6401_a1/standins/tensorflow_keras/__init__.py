"""The tensorflow stand-in's folder: put it on the worker's sys.path only where tensorflow may be imported."""
