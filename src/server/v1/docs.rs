//! `/api/docs`: the API's reference, a page rendered on the server from the served OpenAPI
//! document itself (so it cannot drift from it), with the app's own stylesheet for API
//! pages: no script, nothing fetched from elsewhere, within the app's
//! Content-Security-Policy.

use serde_json::Value;
use std::fmt::Write;
use std::sync::LazyLock;

/// The reference page, rendered once.
pub async fn page() -> axum::response::Html<&'static str> {
    static PAGE: LazyLock<String> = LazyLock::new(|| {
        let document = serde_json::to_value(super::document()).unwrap_or_default();
        render(&document)
    });
    axum::response::Html(PAGE.as_str())
}

/// Text made safe for HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A description: paragraphs, with `code` spans.
fn prose(text: &str) -> String {
    text.split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|paragraph| {
            let escaped = escape(paragraph.trim());
            let mut html = String::new();
            for (i, part) in escaped.split('`').enumerate() {
                if i % 2 == 1 {
                    let _ = write!(html, "<code>{part}</code>");
                } else {
                    html.push_str(part);
                }
            }
            format!("<p>{html}</p>")
        })
        .collect()
}

fn anchor(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// A schema's type, in words, with a link to a named schema.
fn type_of(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return format!("<a href=\"#schema-{}\">{}</a>", anchor(name), escape(name));
    }
    if let Some(options) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        return options.iter().map(type_of).collect::<Vec<_>>().join(" or ");
    }
    let kinds: Vec<String> = match &schema["type"] {
        Value::String(kind) => vec![kind.clone()],
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(|k| k.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    let mut words: Vec<String> = kinds
        .iter()
        .map(|kind| match kind.as_str() {
            "array" => format!("list of {}", type_of(&schema["items"])),
            "object" if schema["additionalProperties"].is_object() => {
                format!("object of {}", type_of(&schema["additionalProperties"]))
            }
            other => escape(other),
        })
        .collect();
    if words.is_empty() {
        words.push(if schema["properties"].is_object() {
            "object".into()
        } else {
            "any".into()
        });
    }
    let mut text = words.join(" or ");
    if let Some(format) = schema["format"].as_str() {
        let _ = write!(text, " ({})", escape(format));
    }
    if let Some(values) = schema["enum"].as_array() {
        let values: Vec<String> = values
            .iter()
            .map(|v| format!("<code>{}</code>", escape(&v.to_string())))
            .collect();
        let _ = write!(text, ": {}", values.join(", "));
    }
    text
}

/// A table of an object schema's members.
fn members(schema: &Value) -> String {
    let Some(properties) = schema["properties"].as_object() else {
        return String::new();
    };
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut html = String::from(
        "<table class=\"members\"><thead><tr><th scope=\"col\">Member</th><th scope=\"col\">Type</th>\
         <th scope=\"col\">Description</th></tr></thead><tbody>",
    );
    for (name, member) in properties {
        let mark = if required.contains(&name.as_str()) {
            " <span class=\"required\">required</span>"
        } else {
            ""
        };
        let _ = write!(
            html,
            "<tr><td><code>{}</code>{mark}</td><td>{}</td><td>{}</td></tr>",
            escape(name),
            type_of(member),
            escape(member["description"].as_str().unwrap_or_default())
        );
        if member["properties"].is_object() {
            let _ = write!(
                html,
                "<tr><td></td><td colspan=\"2\">{}</td></tr>",
                members(member)
            );
        }
    }
    html.push_str("</tbody></table>");
    html
}

/// The content of a request body or a response: its media types and schemas.
fn content(content: &Value) -> String {
    let Some(types) = content.as_object() else {
        return String::new();
    };
    types
        .iter()
        .map(|(media, body)| {
            format!(
                "<p><code>{}</code>: {}</p>",
                escape(media),
                type_of(&body["schema"])
            )
        })
        .collect()
}

fn operation(method: &str, path: &str, op: &Value) -> String {
    let id = anchor(&format!("{method}{path}"));
    let mut html = format!(
        "<section class=\"operation\" id=\"op-{id}\" aria-labelledby=\"title-{id}\">\
         <h3 id=\"title-{id}\"><span class=\"method method-{method}\">{}</span> <code>/api/v1{}</code></h3>",
        method.to_uppercase(),
        escape(path)
    );
    if let Some(summary) = op["summary"].as_str() {
        let _ = write!(html, "<p class=\"summary\">{}</p>", escape(summary));
    }
    if let Some(description) = op["description"].as_str() {
        html.push_str(&prose(description));
    }
    if let Some(parameters) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
        html.push_str(
            "<h4>Parameters</h4><table class=\"members\"><thead><tr><th scope=\"col\">Name</th>\
             <th scope=\"col\">In</th><th scope=\"col\">Type</th><th scope=\"col\">Description</th></tr></thead><tbody>",
        );
        for p in parameters {
            let mark = if p["required"].as_bool() == Some(true) {
                " <span class=\"required\">required</span>"
            } else {
                ""
            };
            let _ = write!(
                html,
                "<tr><td><code>{}</code>{mark}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(p["name"].as_str().unwrap_or_default()),
                escape(p["in"].as_str().unwrap_or_default()),
                type_of(&p["schema"]),
                escape(p["description"].as_str().unwrap_or_default())
            );
        }
        html.push_str("</tbody></table>");
    }
    if op["requestBody"].is_object() {
        html.push_str("<h4>Request body</h4>");
        if let Some(description) = op["requestBody"]["description"].as_str() {
            html.push_str(&prose(description));
        }
        html.push_str(&content(&op["requestBody"]["content"]));
    }
    if let Some(responses) = op["responses"].as_object() {
        html.push_str("<h4>Responses</h4><dl class=\"responses\">");
        for (status, response) in responses {
            let _ = write!(
                html,
                "<dt><code>{}</code></dt><dd>{}{}</dd>",
                escape(status),
                escape(response["description"].as_str().unwrap_or_default()),
                content(&response["content"])
            );
        }
        html.push_str("</dl>");
    }
    html.push_str("</section>");
    html
}

/// What every request has in common, in words.
const CONVENTIONS: &str = "<h2 id=\"conventions\">Conventions</h2>\
<ul>\
<li><strong>Keys.</strong> An admin makes a key under Settings → API keys (or the operator runs \
<code>contacts create-api-key</code>); send it as <code>Authorization: Bearer ck_…</code>. A key \
acts inside its workspace with its role: editor keys change contacts and groups, viewer keys read. \
The browser's session cookie is never accepted here.</li>\
<li><strong>Errors</strong> are <code>{code, message, field?, errorId}</code> with precise statuses: \
400 malformed, 401 no or bad key, 403 the key's role, 404 unknown (or another workspace's) id, \
409 conflict (<code>contactId</code> names who has a number), 412 stale <code>If-Match</code>, \
413 body over 1 MiB, 415 wrong content type, 422 invalid (the <code>field</code> named; unknown \
members are refused), 429 over the key's rate (<code>Retry-After</code> says when).</li>\
<li><strong>Retries.</strong> Send <code>Idempotency-Key</code> on a POST: the first response is kept \
for 24 hours and a retry gets it again (<code>Idempotent-Replayed: true</code>); the same key with \
another body gets 422, and a retry while the first still runs gets 409.</li>\
<li><strong>Versions.</strong> Contacts and groups carry an <code>ETag</code>; send it as \
<code>If-Match</code> on PATCH and DELETE to change only what you read.</li>\
<li><strong>Lists</strong> page by keyset: pass the <code>nextCursor</code> of a page as \
<code>cursor</code>, with the same parameters; it is null on the last page.</li>\
<li><strong>Numbers</strong> are E.164 out; in, national numbers are read with the contact's \
country, or the workspace's.</li>\
<li>The machine-readable document: <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a> \
(OpenAPI 3.1).</li>\
</ul>";

/// The operations of one tag: their sections, and their (anchor, label) for the index.
struct Tagged {
    name: String,
    sections: Vec<String>,
    entries: Vec<(String, String)>,
}

/// The whole page.
pub fn render(document: &Value) -> String {
    let title = escape(document["info"]["title"].as_str().unwrap_or("API"));
    let mut by_tag: Vec<Tagged> = document["tags"]
        .as_array()
        .map(|tags| {
            tags.iter()
                .map(|t| Tagged {
                    name: t["name"].as_str().unwrap_or_default().to_string(),
                    sections: Vec::new(),
                    entries: Vec::new(),
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(paths) = document["paths"].as_object() {
        for (path, item) in paths {
            for method in ["get", "post", "put", "patch", "delete"] {
                let op = &item[method];
                if op.is_null() {
                    continue;
                }
                let tag = op["tags"][0].as_str().unwrap_or_default();
                let Some(entry) = by_tag.iter_mut().find(|t| t.name == tag) else {
                    continue;
                };
                entry.sections.push(operation(method, path, op));
                entry.entries.push((
                    anchor(&format!("{method}{path}")),
                    format!("{} /api/v1{}", method.to_uppercase(), path),
                ));
            }
        }
    }
    let mut html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} reference</title><link rel=\"stylesheet\" href=\"/api-docs.css\"></head><body>\
         <header class=\"docs-header\"><p><a href=\"/contacts\">Contacts</a></p><h1>{title} reference</h1></header>\
         <div class=\"docs\"><nav aria-label=\"Operations\" class=\"docs-nav\"><ul>\
         <li><a href=\"#conventions\">Conventions</a></li>"
    );
    for Tagged {
        name: tag, entries, ..
    } in &by_tag
    {
        let _ = write!(
            html,
            "<li><a href=\"#tag-{}\">{}</a><ul>",
            anchor(tag),
            escape(tag)
        );
        for (id, label) in entries {
            let _ = write!(html, "<li><a href=\"#op-{id}\">{}</a></li>", escape(label));
        }
        html.push_str("</ul></li>");
    }
    html.push_str("<li><a href=\"#schemas\">Schemas</a></li></ul></nav><main>");
    html.push_str(&prose(
        document["info"]["description"].as_str().unwrap_or_default(),
    ));
    html.push_str(CONVENTIONS);
    let tags = document["tags"].as_array().cloned().unwrap_or_default();
    for Tagged {
        name: tag,
        sections,
        ..
    } in &by_tag
    {
        let description = tags
            .iter()
            .find(|t| t["name"] == tag.as_str())
            .and_then(|t| t["description"].as_str())
            .unwrap_or_default();
        let _ = write!(
            html,
            "<section id=\"tag-{}\" aria-labelledby=\"tag-title-{0}\"><h2 id=\"tag-title-{0}\">{}</h2>{}",
            anchor(tag),
            escape(tag),
            prose(description)
        );
        for section in sections {
            html.push_str(section);
        }
        html.push_str("</section>");
    }
    html.push_str("<section id=\"schemas\" aria-labelledby=\"schemas-title\"><h2 id=\"schemas-title\">Schemas</h2>");
    if let Some(schemas) = document["components"]["schemas"].as_object() {
        for (name, schema) in schemas {
            let _ = write!(
                html,
                "<section class=\"schema\" id=\"schema-{}\" aria-labelledby=\"schema-title-{0}\"><h3 id=\"schema-title-{0}\">{}</h3>{}<p>{}</p>{}</section>",
                anchor(name),
                escape(name),
                prose(schema["description"].as_str().unwrap_or_default()),
                type_of(&Value::Object(
                    schema
                        .as_object()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|(k, _)| k != "properties")
                        .collect()
                )),
                members(schema)
            );
        }
    }
    html.push_str("</section></main></div></body></html>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_shows_every_operation_and_schema_of_the_document() {
        let document = serde_json::to_value(crate::server::v1::document()).unwrap();
        let page = render(&document);
        for (path, item) in document["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                let label = format!("{} /api/v1{}", method.to_uppercase(), path);
                assert!(page.contains(&escape(&label)), "{label}");
            }
        }
        for name in document["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
        {
            assert!(
                page.contains(&format!("id=\"schema-{}\"", anchor(name))),
                "{name}"
            );
        }
        assert!(!page.contains("<script"), "no script");
        assert!(page.contains("<html lang=\"en\">"));
    }

    #[test]
    fn operations_have_distinct_ids() {
        let document = serde_json::to_value(crate::server::v1::document()).unwrap();
        let mut ids: Vec<&str> = document["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .map(|op| op["operationId"].as_str().unwrap())
            .collect();
        let all = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all, "{ids:?}");
    }

    #[test]
    fn text_is_escaped_and_code_is_marked() {
        assert_eq!(
            escape("<a href=\"x\">&"),
            "&lt;a href=&quot;x&quot;&gt;&amp;"
        );
        assert_eq!(
            prose("Send `ck_…` <now>."),
            "<p>Send <code>ck_…</code> &lt;now&gt;.</p>"
        );
    }
}
