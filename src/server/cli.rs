//! The command line. `contacts` serves the app (what `make run` and cargo-leptos run);
//! `contacts create-workspace` adds a further workspace with its first admin, for the
//! operator of an install that hosts several teams: sign-up in the browser closes with
//! the first workspace, and users belong to one workspace each; `contacts create-api-key`
//! makes an API key for an admin's workspace and prints only the key, so a script can
//! take it (`KEY=$(contacts create-api-key …)`).

use crate::db::Db;
use crate::db::workspaces::{CreatedWorkspace, create_with_admin};
use crate::error::AppError;
use crate::model::account::validate_new_workspace;
use crate::server::config::Config;
use crate::server::password::hash_password;
use clap::{Parser, Subcommand};
use rand::Rng;
use rand::distr::Alphanumeric;
use std::process::ExitCode;

/// Contacts: manage the people a business messages. Settings come from the environment
/// (see the README); the database is the one the server uses.
#[derive(Debug, Parser)]
#[command(name = "contacts", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the app (the default).
    Serve,
    /// Read a spreadsheet from standard input within limits (the server runs this in a
    /// child process; see `server::sheet_reader`).
    #[command(hide = true)]
    ReadSheet {
        /// The sheet to read.
        #[arg(long)]
        sheet: Option<String>,
        /// Only the first rows, for an upload's check.
        #[arg(long)]
        sample: bool,
    },
    /// Create a further workspace and its first admin, who signs in with the temporary
    /// password printed here and must choose their own at once.
    CreateWorkspace {
        /// The workspace's name.
        #[arg(long)]
        name: String,
        /// The country its numbers are read in by default (ISO code, e.g. SG).
        #[arg(long)]
        country: String,
        /// The email its first admin signs in with.
        #[arg(long)]
        admin_email: String,
    },
    /// Create an API key for the workspace of an admin. Prints only the key, on
    /// standard output (it is shown only now); everything else goes to standard error.
    CreateApiKey {
        /// The email of an admin of the workspace.
        #[arg(long)]
        admin_email: String,
        /// What the key may do.
        #[arg(long, value_parser = ["editor", "viewer"])]
        role: String,
        /// What the key is for (shown in Settings → API keys).
        #[arg(long)]
        name: String,
    },
}

/// Characters of a temporary password: letters and digits, easy to pass on.
const TEMPORARY_PASSWORD_LEN: usize = 20;

/// Runs the command the arguments name.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    super::init_tracing();
    match cli.command.unwrap_or(Command::Serve) {
        Command::ReadSheet { sheet, sample } => super::sheet_reader::run_child(sheet, sample),
        Command::Serve => match super::serve().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!(%error, "Contacts could not start");
                eprintln!("Contacts could not start: {error}");
                ExitCode::FAILURE
            }
        },
        Command::CreateWorkspace {
            name,
            country,
            admin_email,
        } => {
            let created = async {
                let config = Config::from_env().map_err(|e| e.to_string())?;
                let db = super::open_database(&config)
                    .await
                    .map_err(|e| e.to_string())?;
                create_workspace(&db, &name, &country, &admin_email)
                    .await
                    .map_err(|e| explain(&e))
            };
            match created.await {
                Ok((created, password)) => {
                    println!(
                        "Workspace \"{}\" created (id {}). Its admin {} signs in with the \
                         temporary password\n\n    {password}\n\nand chooses their own at \
                         once. This password is shown only now.",
                        name.trim(),
                        created.workspace_id,
                        admin_email.trim(),
                    );
                    ExitCode::SUCCESS
                }
                Err(message) => {
                    eprintln!("No workspace was created: {message}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::CreateApiKey {
            admin_email,
            role,
            name,
        } => {
            let created = async {
                let config = Config::from_env().map_err(|e| e.to_string())?;
                let db = super::open_database(&config)
                    .await
                    .map_err(|e| e.to_string())?;
                create_api_key(&db, &admin_email, &role, &name)
                    .await
                    .map_err(|e| e.to_string())
            };
            match created.await {
                Ok(secret) => {
                    println!("{secret}");
                    eprintln!(
                        "API key \"{}\" created for the workspace of {}. It is shown only now.",
                        name.trim(),
                        admin_email.trim()
                    );
                    ExitCode::SUCCESS
                }
                Err(message) => {
                    eprintln!("No key was created: {message}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Makes an API key for the workspace of the admin with this email; returns its secret.
pub async fn create_api_key(
    db: &Db,
    admin_email: &str,
    role: &str,
    name: &str,
) -> Result<String, AppError> {
    let email = admin_email.trim().to_lowercase();
    let (workspace_id, admin) = crate::db::users::admin_by_email(db, &email)
        .await?
        .ok_or_else(|| {
            AppError::NotFound(format!("No admin has the email {email} (--admin-email)."))
        })?;
    let role = role
        .parse()
        .map_err(|_| AppError::invalid("role", "--role is editor or viewer."))?;
    let key = crate::server::keys::create_key(db, workspace_id, name, role, Some(admin)).await?;
    Ok(key.secret)
}

/// Creates a workspace and its first admin with a new temporary password; returns the
/// ids and the password (shown once, stored only as a hash).
pub async fn create_workspace(
    db: &Db,
    name: &str,
    country: &str,
    admin_email: &str,
) -> Result<(CreatedWorkspace, String), AppError> {
    let password: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(TEMPORARY_PASSWORD_LEN)
        .map(char::from)
        .collect();
    let new = validate_new_workspace(name, country, admin_email, &password)?;
    let hash = hash_password(password.clone()).await?;
    let created = create_with_admin(db, &new, &hash).await?;
    tracing::info!(workspace = created.workspace_id, "workspace created");
    Ok((created, password))
}

/// An error as one line for the terminal: each problem after the option it is about,
/// or the error's text.
fn explain(error: &AppError) -> String {
    let option = |field: &str| match field {
        "workspace_name" => "--name",
        "default_country" => "--country",
        "email" => "--admin-email",
        _ => "",
    };
    match error {
        AppError::Invalid(problems) => problems
            .iter()
            .map(|p| format!("{} {}", option(&p.field), p.message))
            .collect::<Vec<_>>()
            .join(" ")
            .trim()
            .to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::db_tests!(
        an_operator_adds_a_workspace_whose_admin_must_choose_a_password,
        a_taken_email_or_a_bad_country_creates_nothing,
        an_operator_makes_a_key_for_an_admins_workspace
    );
    use crate::db;
    use crate::model::account::NewWorkspace;
    use crate::model::contact::ContactFilter;
    use crate::server::password::verify_password;

    async fn first_workspace(db: &Db) -> i64 {
        let new = NewWorkspace {
            name: "Acme".into(),
            default_country: "SG".into(),
            email: "admin@acme.test".into(),
            password: String::new(),
        };
        let created = db::workspaces::create_first(db, &new, "hash")
            .await
            .unwrap();
        use crate::model::field::ContactField;
        let mut ann = db::contacts::ContactRecord::default()
            .with(ContactField::FirstName, "Ann")
            .with(ContactField::Country, "SG")
            .with(ContactField::Mobile, "+6581234567");
        ann.mobile_national = Some("81234567".into());
        db::contacts::create(db, created.workspace_id, &ann, crate::db::testing::AUTHOR)
            .await
            .unwrap();
        created.workspace_id
    }

    async fn an_operator_adds_a_workspace_whose_admin_must_choose_a_password(db: Db) {
        let acme = first_workspace(&db).await;
        let (created, password) = create_workspace(&db, " Globex ", "gb", "Boss@Globex.test")
            .await
            .unwrap();
        assert_ne!(created.workspace_id, acme);
        assert_eq!(password.len(), TEMPORARY_PASSWORD_LEN);

        // The admin signs in with the printed password and must change it.
        let credentials = db::users::credentials_by_email(&db, "boss@globex.test")
            .await
            .unwrap()
            .expect("the admin exists");
        assert_eq!(credentials.workspace_id, created.workspace_id);
        assert!(
            verify_password(password, Some(credentials.password_hash))
                .await
                .unwrap()
        );
        let users = db::users::list(&db, created.workspace_id).await.unwrap();
        assert_eq!(users.len(), 1);
        assert_eq!(users[0].role, crate::model::Role::Admin);
        let sql = "SELECT must_change_password FROM users WHERE id = $1";
        let must_change: bool = db::on!(&db, pool => {
            sqlx::query_scalar(sql).bind(created.user_id).fetch_one(pool).await
        })
        .unwrap();
        assert!(
            must_change,
            "a temporary password is changed at first sign-in"
        );

        // Each workspace sees only its own contacts.
        let all = ContactFilter::default();
        assert_eq!(db::contacts::count(&db, acme, &all).await.unwrap(), 1);
        assert_eq!(
            db::contacts::count(&db, created.workspace_id, &all)
                .await
                .unwrap(),
            0
        );
    }

    async fn a_taken_email_or_a_bad_country_creates_nothing(db: Db) {
        first_workspace(&db).await;
        let taken = create_workspace(&db, "Globex", "GB", "admin@acme.test").await;
        let error = taken.unwrap_err();
        assert!(explain(&error).starts_with("--admin-email"), "{error:?}");
        let bad = create_workspace(&db, "Globex", "Atlantis", "boss@globex.test").await;
        assert!(explain(&bad.unwrap_err()).starts_with("--country"));
        let sql = "SELECT count(*) FROM workspaces";
        let workspaces: i64 =
            db::on!(&db, pool => sqlx::query_scalar(sql).fetch_one(pool).await).unwrap();
        assert_eq!(workspaces, 1, "nothing was left behind");
    }

    async fn an_operator_makes_a_key_for_an_admins_workspace(db: Db) {
        let acme = first_workspace(&db).await;
        let secret = create_api_key(&db, " Admin@Acme.test ", "editor", "Shop")
            .await
            .unwrap();
        assert!(crate::server::keys::looks_like_key(&secret), "{secret}");
        let hash = crate::server::keys::secret_hash(&secret);
        let key = db::api_keys::by_secret(&db, &hash).await.unwrap().unwrap();
        assert_eq!(
            (key.workspace_id, key.role),
            (acme, crate::model::Role::Editor)
        );
        assert!(matches!(
            create_api_key(&db, "nobody@acme.test", "editor", "X").await,
            Err(AppError::NotFound(_))
        ));
        assert!(
            create_api_key(&db, "admin@acme.test", "admin", "X")
                .await
                .is_err()
        );
    }
}
