package response

// Path writes a path of object keys as a data_selector or paginator path:
// dotted when every key allows it (data.items), else a bracketed JSONPath
// ($['@odata.nextLink']). Lookup and Select read both back.
func Path(keys []string) string { return render(keys) }
