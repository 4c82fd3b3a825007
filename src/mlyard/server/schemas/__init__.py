"""Request and response bodies of the REST API, one module per route family.

Requests are strict: unknown fields are refused (a misspelt field is an error naming it, not a
silently ignored value). Responses reuse the entity models (`Job`, `DataAsset`, `Model`,
`ModelVersion`) so the API and the SDK show the same records. Every list comes wrapped as
`{"value": [...]}`, as Azure ML's REST API returns lists, leaving room for paging fields.
"""
