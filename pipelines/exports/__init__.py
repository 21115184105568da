"""Writers of the export files the actions read."""
