"""Pages of the Reciprocity Game."""
