"""Apply: carry a plan out against the cloud, walking the dependency graph."""
