"""Pages of the Reciprocity Game: rounds, conflicts, ventures, scores and their entries."""
