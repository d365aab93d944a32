"""Storage: the one store interface the tracker, intake and cogs use (`store`, with its reads in
`queries` and the small tables in `settings_tables`), the schema and its migrations (`schema`),
and the online backup. A second backend goes here, behind the same interface.
"""
