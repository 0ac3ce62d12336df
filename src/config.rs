//! Command line and environment: every option is `long` + `env`, and the defaults run the
//! service on a local SQLite file with nothing configured.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::server;

/// Where the embedded database lives when `DATABASE_URL` is not set (git-ignored).
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/sanctuary-data.db?mode=rwc";

/// sanctuary-data: aggregate statistics, timelines and policy documents of municipal ID
/// and sanctuary-policy programs. No individual records.
#[derive(Debug, Parser)]
#[command(name = "sanctuary-data", version, about, long_about = None)]
pub struct Cli {
    /// Database to use: `sqlite://PATH?mode=rwc` (embedded, the default) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true, hide_env_values = true)]
    pub database_url: String,

    /// Disclosure threshold k: breakdown cells with 1 <= value < k are suppressed.
    /// The minimum is 5.
    #[arg(long, env = "SANCTUARY_MIN_CELL", default_value_t = crate::disclosure::DEFAULT_K, global = true)]
    pub min_cell: i64,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run migrations, import the seed directory if the database holds no release, and serve HTTP.
    Serve(Box<ServeArgs>),
    /// Validate a directory of CSV files and its datapackage.json, then load it as a new release.
    Import {
        /// Directory holding datapackage.json and the CSV files it declares.
        dir: PathBuf,
    },
    /// Validate a directory like `import` does, without touching any database.
    Check {
        /// Directory holding datapackage.json and the CSV files it declares.
        dir: PathBuf,
    },
    /// Write the generated contracts: schema.graphql and openapi/openapi.json.
    Export {
        /// Repository root to write into.
        #[arg(long, env = "SANCTUARY_EXPORT_DIR", default_value = ".")]
        out_dir: PathBuf,
    },
}

/// The longest any timeout may be set to: a day. A larger one is refused at start-up, since
/// deadlines are computed as "now + timeout" and a value near `u64::MAX` seconds overflows.
pub const MAX_TIMEOUT_SECS: u64 = 86_400;

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SANCTUARY_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Seed directory imported on first start (when the database holds no release).
    #[arg(long, env = "SANCTUARY_SEED_DIR", default_value = "seed-data")]
    pub seed_dir: PathBuf,

    /// Directory for files the service renders: whole-table downloads are kept under
    /// `<data-dir>/downloads`, one directory per release (safe to delete: they are rendered
    /// again on request).
    #[arg(long, env = "SANCTUARY_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Connections served at once; one more is answered 503 with `Retry-After` and closed.
    #[arg(long, env = "SANCTUARY_MAX_CONNECTIONS", default_value_t = server::DEFAULT_MAX_CONNECTIONS, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,

    /// Seconds a request head (request line and headers) may take to arrive, counted from
    /// when the connection starts waiting for it.
    #[arg(long, env = "SANCTUARY_HEADER_READ_TIMEOUT_SECS", default_value_t = server::DEFAULT_HEADER_READ_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS))]
    pub header_read_timeout_secs: u64,

    /// Seconds a connection with no request in progress may stay silent before it is closed
    /// (keep-alive).
    #[arg(long, env = "SANCTUARY_IDLE_TIMEOUT_SECS", default_value_t = server::DEFAULT_IDLE_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS))]
    pub idle_timeout_secs: u64,

    /// Seconds a response write may make no progress (the client stopped reading) before
    /// the connection is closed.
    #[arg(long, env = "SANCTUARY_WRITE_TIMEOUT_SECS", default_value_t = server::DEFAULT_WRITE_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS))]
    pub write_timeout_secs: u64,

    /// Seconds requests in progress get to finish after SIGTERM or Ctrl-C; then the
    /// process exits, whatever is still open.
    #[arg(long, env = "SANCTUARY_SHUTDOWN_TIMEOUT_SECS", default_value_t = server::DEFAULT_SHUTDOWN_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS))]
    pub shutdown_timeout_secs: u64,

    /// Longest request head (request line and headers) in bytes; a longer one is answered
    /// 431. Leave room for GraphQL queries sent in GET URLs.
    #[arg(long, env = "SANCTUARY_MAX_HEADER_BYTES", default_value_t = server::DEFAULT_MAX_HEADER_BYTES, value_parser = clap::value_parser!(u32).range(1024..=1_048_576))]
    pub max_header_bytes: u32,

    #[command(flatten)]
    pub publication: PublicationArgs,
}

impl ServeArgs {
    /// The connection limits these options describe.
    pub fn limits(&self) -> server::Limits {
        server::Limits {
            max_connections: self.max_connections as usize,
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            write_timeout: Duration::from_secs(self.write_timeout_secs),
            shutdown_timeout: Duration::from_secs(self.shutdown_timeout_secs),
            max_header_bytes: self.max_header_bytes as usize,
        }
    }
}

/// How the service names itself in its catalogs (`/data.json`, `/datapackage.json`,
/// `/catalog.jsonld`) and in the pages' JSON-LD. Each value is checked as it is parsed (a
/// bad one is a usage error naming the option, not a crash); what is left unset comes from
/// the seed's `datapackage.json` where it says, else from built-in defaults
/// ([`Publication::resolve`]).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PublicationArgs {
    /// Public base URL, scheme and host only (`https://data.example.org`): every absolute
    /// URL in catalogs and pages starts with it, and the request's Host header is then
    /// never used. Unset: each request's Host header.
    #[arg(long, env = "SANCTUARY_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,

    /// Trust a reverse proxy in front: when no public URL is set, absolute URLs use its
    /// `X-Forwarded-Proto` and `X-Forwarded-Host`. Only behind a proxy that sets them (or
    /// strips them from clients): otherwise any client chooses the host catalogs name.
    #[arg(long, env = "SANCTUARY_TRUST_PROXY", value_parser = clap::builder::BoolishValueParser::new())]
    pub trust_proxy: bool,

    /// Who publishes the data (DCAT `publisher`). Unset: the seed's `datapackage.json`
    /// contributor with the role `publisher`, else "sanctuary-data".
    #[arg(long, env = "SANCTUARY_PUBLISHER", value_parser = parse_name)]
    pub publisher: Option<String>,

    /// Whom to contact about the data (DCAT `contactPoint.fn`). Unset: the seed's
    /// contributor with the role `contact`, else "sanctuary-data maintainers".
    #[arg(long, env = "SANCTUARY_CONTACT_NAME", value_parser = parse_name)]
    pub contact_name: Option<String>,

    /// The contact's email address (DCAT `contactPoint.hasEmail`, which DCAT-US requires).
    /// Unset: the email of the seed's `contact` contributor; none otherwise.
    #[arg(long, env = "SANCTUARY_CONTACT_EMAIL", value_parser = parse_email)]
    pub contact_email: Option<String>,

    /// The data's licence, as a URL. Unset: the first licence of the seed's
    /// `datapackage.json`, else CC-BY-4.0.
    #[arg(long, env = "SANCTUARY_LICENSE", value_parser = parse_license)]
    pub license: Option<String>,

    /// US federal agencies only: DCAT-US `bureauCode`s (`015:11`), comma-separated.
    /// Emitted only when set.
    #[arg(long, env = "SANCTUARY_BUREAU_CODE", value_delimiter = ',', value_parser = parse_bureau_code)]
    pub bureau_code: Vec<String>,

    /// US federal agencies only: DCAT-US `programCode`s (`015:001`), comma-separated.
    /// Emitted only when set.
    #[arg(long, env = "SANCTUARY_PROGRAM_CODE", value_delimiter = ',', value_parser = parse_program_code)]
    pub program_code: Vec<String>,
}

/// What the catalogs say about who publishes the data, under which licence, and where
/// (see [`PublicationArgs`]); checked, with the defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// `scheme://host[:port]`, no trailing slash; `None`: from each request.
    pub public_url: Option<String>,
    pub trust_proxy: bool,
    pub publisher: String,
    pub contact_name: String,
    /// A plain address (no `mailto:`).
    pub contact_email: Option<String>,
    pub license: License,
    pub bureau_code: Vec<String>,
    pub program_code: Vec<String>,
}

/// A licence as a Data Package names it: `path` (a URL) and, when known, its SPDX `name`
/// and `title`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct License {
    pub path: String,
    pub name: Option<String>,
    pub title: Option<String>,
}

/// The built-in publisher, used when neither the options nor the seed name one.
pub const DEFAULT_PUBLISHER: &str = "sanctuary-data";
/// The built-in contact name.
pub const DEFAULT_CONTACT_NAME: &str = "sanctuary-data maintainers";

impl Default for Publication {
    /// Nothing configured and no seed descriptor: names from the request, CC-BY-4.0.
    fn default() -> Self {
        Publication {
            public_url: None,
            trust_proxy: false,
            publisher: DEFAULT_PUBLISHER.to_owned(),
            contact_name: DEFAULT_CONTACT_NAME.to_owned(),
            contact_email: None,
            license: License {
                path: "https://creativecommons.org/licenses/by/4.0/".to_owned(),
                name: Some("CC-BY-4.0".to_owned()),
                title: Some("Creative Commons Attribution 4.0".to_owned()),
            },
            bureau_code: Vec::new(),
            program_code: Vec::new(),
        }
    }
}

impl Publication {
    /// The options, with what they leave unset taken from `descriptor` (a data package's
    /// JSON: its first `licenses` entry, its `contributors` with the roles `publisher` and
    /// `contact`), else the built-in defaults. A descriptor value that would not pass as
    /// an option is an error naming where it is.
    pub fn resolve(
        args: &PublicationArgs,
        descriptor: Option<&serde_json::Value>,
    ) -> anyhow::Result<Self> {
        let defaults = Publication::default();
        let empty = serde_json::Value::Null;
        let descriptor = descriptor.unwrap_or(&empty);
        let seed_license = descriptor["licenses"].get(0);
        let contributor = |role: &str| {
            descriptor["contributors"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .find(|(_, c)| {
                    c["roles"]
                        .as_array()
                        .is_some_and(|roles| roles.iter().any(|r| r == role))
                })
        };
        // A value of the descriptor, checked like the option it stands in for.
        let seed = |at: String,
                    value: &serde_json::Value,
                    check: fn(&str) -> Result<String, String>| {
            value
                .as_str()
                .map(|text| check(text).map_err(|e| anyhow::anyhow!("datapackage.json {at}: {e}")))
                .transpose()
        };
        let publisher = match (&args.publisher, contributor("publisher")) {
            (Some(name), _) => name.clone(),
            (None, Some((i, c))) => {
                seed(format!("contributors[{i}].title"), &c["title"], parse_name)?
                    .unwrap_or(defaults.publisher)
            }
            (None, None) => defaults.publisher,
        };
        let contact = contributor("contact");
        let contact_name = match (&args.contact_name, contact) {
            (Some(name), _) => name.clone(),
            (None, Some((i, c))) => {
                seed(format!("contributors[{i}].title"), &c["title"], parse_name)?
                    .unwrap_or(defaults.contact_name)
            }
            (None, None) => defaults.contact_name,
        };
        let contact_email = match (&args.contact_email, contact) {
            (Some(email), _) => Some(email.clone()),
            (None, Some((i, c))) => {
                seed(format!("contributors[{i}].email"), &c["email"], parse_email)?
            }
            (None, None) => None,
        };
        let license = match (&args.license, seed_license) {
            (Some(path), _) => {
                // The seed's name and title still apply when it names the same licence.
                let same = seed_license.filter(|l| l["path"].as_str() == Some(path.as_str()));
                License {
                    path: path.clone(),
                    name: same.and_then(|l| l["name"].as_str()).map(str::to_owned),
                    title: same.and_then(|l| l["title"].as_str()).map(str::to_owned),
                }
            }
            (None, Some(l)) => match seed("licenses[0].path".into(), &l["path"], parse_license)? {
                Some(path) => License {
                    path,
                    name: l["name"].as_str().map(str::to_owned),
                    title: l["title"].as_str().map(str::to_owned),
                },
                None => defaults.license,
            },
            (None, None) => defaults.license,
        };
        Ok(Publication {
            public_url: args.public_url.clone(),
            trust_proxy: args.trust_proxy,
            publisher,
            contact_name,
            contact_email,
            license,
            bureau_code: args.bureau_code.clone(),
            program_code: args.program_code.clone(),
        })
    }
}

/// A public base URL: `http` or `https`, a host, and nothing after it (no user, path,
/// query or fragment: the pages link to absolute paths, so the service cannot live under
/// a prefix). Normalised to its origin: `https://Data.Example.org:443/` is
/// `https://data.example.org`.
pub fn parse_public_url(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text.trim()).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err("the public URL must be http:// or https:// and name a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the public URL must not hold a user name or password".into());
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(
            "the public URL must be scheme and host only, like https://data.example.org \
             (no path, query or fragment)"
                .into(),
        );
    }
    Ok(url.origin().ascii_serialization())
}

/// A licence URL: `http` or `https`, at most 2,000 characters.
pub fn parse_license(text: &str) -> Result<String, String> {
    let text = text.trim();
    match url::Url::parse(text) {
        Ok(url)
            if matches!(url.scheme(), "http" | "https")
                && url.host_str().is_some()
                && text.len() <= 2000 =>
        {
            Ok(url.to_string())
        }
        _ => Err("the licence must be an http:// or https:// URL".into()),
    }
}

/// A name (publisher, contact): 1 to 200 characters, no control characters.
pub fn parse_name(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 200 || text.chars().any(char::is_control) {
        return Err("a name must have 1 to 200 characters and no control characters".into());
    }
    Ok(text.to_owned())
}

/// An email address, as RFC 5322 allows it (the `email_address` crate) and as DCAT-US's
/// `hasEmail` pattern accepts it: an unquoted local part and a domain name with a dot.
pub fn parse_email(text: &str) -> Result<String, String> {
    let text = text.trim();
    let text = text.strip_prefix("mailto:").unwrap_or(text);
    let refuse = || {
        format!(
            "\"{}\" is not an email address like data@example.org",
            text.escape_debug()
        )
    };
    let address: email_address::EmailAddress = text.parse().map_err(|_| refuse())?;
    let local_ok = address
        .local_part()
        .chars()
        .all(|c| c.is_alphanumeric() || "_~!$&'()*+,;=:.-".contains(c));
    let domain = address.domain();
    let domain_ok = domain.contains('.')
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-' || c == '_');
    if !(local_ok && domain_ok) {
        return Err(refuse());
    }
    Ok(address.to_string())
}

/// A DCAT-US bureau code: `NNN:NN` (OMB Circular A-11, Appendix C).
pub fn parse_bureau_code(text: &str) -> Result<String, String> {
    federal_code(text, 2, "a bureau code is NNN:NN, like 015:11")
}

/// A DCAT-US program code: `NNN:NNN` (Federal Program Inventory).
pub fn parse_program_code(text: &str) -> Result<String, String> {
    federal_code(text, 3, "a program code is NNN:NNN, like 015:001")
}

fn federal_code(text: &str, digits: usize, expected: &str) -> Result<String, String> {
    let text = text.trim();
    match text.split_once(':') {
        Some((agency, code))
            if agency.len() == 3
                && code.len() == digits
                && agency
                    .bytes()
                    .chain(code.bytes())
                    .all(|b| b.is_ascii_digit()) =>
        {
            Ok(text.to_owned())
        }
        _ => Err(expected.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use serde_json::json;

    use super::*;

    fn serve_args(args: &[&str]) -> Result<ServeArgs, clap::Error> {
        let mut argv = vec!["sanctuary-data", "serve"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).map(|cli| match cli.command {
            Command::Serve(args) => *args,
            _ => unreachable!(),
        })
    }

    #[test]
    fn a_public_url_is_an_origin() {
        assert_eq!(
            parse_public_url("https://Data.Example.org:443/").unwrap(),
            "https://data.example.org"
        );
        assert_eq!(
            parse_public_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        for bad in [
            "data.example.org",
            "ftp://data.example.org",
            "https://user:pw@data.example.org",
            "https://data.example.org/prefix",
            "https://data.example.org/?q=1",
            "https://data.example.org/#top",
            "https://",
        ] {
            assert!(parse_public_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_bad_option_is_a_usage_error_that_names_it() {
        for (args, option) in [
            (vec!["--public-url", "not a url"], "--public-url"),
            (vec!["--contact-email", "nobody"], "--contact-email"),
            (vec!["--contact-email", "a@localhost"], "--contact-email"),
            (vec!["--license", "CC-BY-4.0"], "--license"),
            (vec!["--bureau-code", "15:1"], "--bureau-code"),
            (vec!["--program-code", "015:01"], "--program-code"),
            (vec!["--publisher", " "], "--publisher"),
        ] {
            let error = serve_args(&args).unwrap_err();
            assert_eq!(
                error.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{args:?}"
            );
            assert!(error.to_string().contains(option), "{error}");
        }
    }

    #[test]
    fn options_are_parsed_and_checked() {
        let args = serve_args(&[
            "--public-url",
            "https://data.example.org/",
            "--trust-proxy",
            "--contact-email",
            "mailto:Open.Data@example.org",
            "--bureau-code",
            "015:11,015:12",
        ])
        .unwrap();
        let publication = Publication::resolve(&args.publication, None).unwrap();
        assert_eq!(
            publication.public_url.as_deref(),
            Some("https://data.example.org")
        );
        assert!(publication.trust_proxy);
        assert_eq!(
            publication.contact_email.as_deref(),
            Some("Open.Data@example.org")
        );
        assert_eq!(publication.bureau_code, ["015:11", "015:12"]);
        assert!(publication.program_code.is_empty());
        assert_eq!(publication.publisher, DEFAULT_PUBLISHER);
        let none = serve_args(&[]).unwrap();
        assert_eq!(
            Publication::resolve(&none.publication, None).unwrap(),
            Publication::default()
        );
    }

    #[test]
    fn the_seed_descriptor_gives_what_the_options_leave_unset() {
        let descriptor = json!({
            "licenses": [{"name": "ODbL-1.0", "path": "https://opendatacommons.org/licenses/odbl/1-0/", "title": "ODbL"}],
            "contributors": [
                {"title": "City Data Desk", "roles": ["publisher"]},
                {"title": "Ada Editor", "email": "ada@example.org", "roles": ["contact", "editor"]},
            ],
        });
        let publication =
            Publication::resolve(&PublicationArgs::default(), Some(&descriptor)).unwrap();
        assert_eq!(publication.publisher, "City Data Desk");
        assert_eq!(publication.contact_name, "Ada Editor");
        assert_eq!(
            publication.contact_email.as_deref(),
            Some("ada@example.org")
        );
        assert_eq!(publication.license.name.as_deref(), Some("ODbL-1.0"));
        // An option wins over the descriptor.
        let args = PublicationArgs {
            contact_email: Some("desk@example.org".into()),
            license: Some("https://creativecommons.org/publicdomain/zero/1.0/".into()),
            ..Default::default()
        };
        let publication = Publication::resolve(&args, Some(&descriptor)).unwrap();
        assert_eq!(
            publication.contact_email.as_deref(),
            Some("desk@example.org")
        );
        assert_eq!(
            publication.license.path,
            "https://creativecommons.org/publicdomain/zero/1.0/"
        );
        assert_eq!(publication.license.name, None);
        // A descriptor value that would not pass as an option says where it is.
        let bad = json!({"contributors": [{"title": "X", "email": "not-an-address", "roles": ["contact"]}]});
        let error = Publication::resolve(&PublicationArgs::default(), Some(&bad)).unwrap_err();
        assert!(
            error.to_string().contains("contributors[0].email"),
            "{error}"
        );
    }

    #[test]
    fn the_committed_seed_descriptor_resolves() {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seed-data/datapackage.json"),
        )
        .unwrap();
        let descriptor: serde_json::Value = serde_json::from_str(&text).unwrap();
        let publication =
            Publication::resolve(&PublicationArgs::default(), Some(&descriptor)).unwrap();
        assert_eq!(publication.license.name.as_deref(), Some("CC-BY-4.0"));
    }
}
