package openapi

// Starter is the pipeline file `restload init` writes without a spec: one
// resource, every common setting shown, the alternatives in comments.
// `restload check` accepts it once API_TOKEN is set.
const Starter = `# A restload pipeline: dlt's rest_api source config, plus a pipeline block.
# Edit the values for your API, then
#   restload check pipeline.yaml     # validates it, touches no network
#   restload run pipeline.yaml       # loads every resource
# Reference: the "Pipeline file reference" section of restload's README.
pipeline:
  name: my_api                        # names the state and the default files
  destination: duckdb:my_api.duckdb   # or postgres://..., parquet:DIR, jsonl:DIR

source:
  client:
    base_url: https://api.example.com/v1   # every resource path is joined to it
    # Secrets: ${secrets.api_token} reads the environment variable API_TOKEN,
    # else api_token in .restload/secrets.toml beside this file.
    auth:
      type: bearer
      token: ${secrets.api_token}
    # Other auth types:
    # auth: {type: api_key, name: X-API-Key, location: header, api_key: ${secrets.api_key}}
    # auth: {type: http_basic, username: ${secrets.api_username}, password: ${secrets.api_password}}
    # auth: {type: oauth2_client_credentials, access_token_url: https://api.example.com/oauth/token,
    #        client_id: ${secrets.client_id}, client_secret: ${secrets.client_secret}}

  resources:
    - name: items                      # a table named items
      endpoint:
        path: /items
        data_selector: data            # where the records are in a response ($ for a list at its root)
        params:
          per_page: 100
        paginator:
          type: page_number
          page_param: page
          base_page: 1
          total_path: ""               # no total in the response: stop at an empty page
        # Other paginators:
        # paginator: {type: offset, limit: 100, offset_param: offset, limit_param: limit, total_path: total}
        # paginator: {type: cursor, cursor_param: cursor, cursor_path: meta.next_cursor}
        # paginator: {type: json_link, next_url_path: links.next}
        # paginator: header_link       # a Link: <...>; rel="next" header
      primary_key: id
      # write_disposition: merge       # update rows by primary_key on reruns

    # A child resource: one request per item, {resources.items.id} from each record.
    # - name: item_details
    #   endpoint:
    #     path: /items/{resources.items.id}/details
`
