"""A grant's life: purpose, data types, start and end, and the customer's record of it."""
