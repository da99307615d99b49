"""The v0.5 audit tests (TEST01, TEST04's A and B runs, TEST05): their definitions, runs and verification."""
