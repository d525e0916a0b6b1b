"""Plans: the diff of desired, prior and observed as an immutable value, saved and rendered."""
