"""Pages of crews, dyads and their meetings."""
