"""The v0.5 audit tests (TEST01, TEST04-A/B, TEST05): their settings, runs and verification."""
