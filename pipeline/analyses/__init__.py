"""One module per analysis: ``compute(extract, settings)`` then ``publish(raw, sdc)``."""
