"""The customer's "connected apps" page: see and revoke what they shared with FlatPeak's clients."""
