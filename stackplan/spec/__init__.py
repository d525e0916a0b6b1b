"""Specs: what the user wrote, loaded with positions, validated, expanded into desired resources."""
