"""Peak searches: the Server target QPS, the MultiStream samples per query, and the one bounded bisection
both use."""
