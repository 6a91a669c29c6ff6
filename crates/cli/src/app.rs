//! Starting and stopping the whole server: both listeners, the outbox worker and the purge
//! of expired drafts. `serve` and the integration tests both start it through [`start`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use lettre::message::Mailbox;
use madoguchi_documents::{DocumentStore, S3Location};
use madoguchi_domain::profile::BankProfile;
use madoguchi_http::{CookiePolicy, Timeouts};
use madoguchi_keyring::MailKeyring;
use madoguchi_mail::{OutboxWorker, Transport};
use madoguchi_office::passkeys::RelyingParty;
use madoguchi_office::{OfficeDeps, OfficeState};
use madoguchi_public::{PublicState, RateLimitSettings};
use madoguchi_seal::EnvelopeWriter;
use madoguchi_store::Store;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::listener::serve_until;

use crate::cli::Listener;
use crate::data_dir::DataDir;

/// Everything a running server needs to know.
pub struct AppConfig {
    /// Which half of the server to run.
    pub listener: Listener,
    pub profile: BankProfile,
    pub data: DataDir,
    pub database_url: Option<String>,
    pub public_addr: SocketAddr,
    pub office_addr: SocketAddr,
    /// Secure cookies; off only in the loopback development mode.
    pub cookie_secure: bool,
    pub mail_from: String,
    pub transport: Transport,
    pub rate_limits: RateLimitSettings,
    /// The public site's address in e-mail links; `None` is `http://` + the bound address.
    pub public_url: Option<String>,
    /// Client addresses besides loopback that may reach the back office.
    pub office_allowed_clients: Vec<std::net::IpAddr>,
    /// The back office's address as staff open it (its passkeys are bound to it); `None` is
    /// `http://localhost:PORT` for a loopback listener, else passkeys are off.
    pub office_url: Option<String>,
    /// Where audit checkpoints are appended besides the database (default
    /// `<data-dir>/audit-checkpoints.log`).
    pub audit_sink: Option<PathBuf>,
    /// Where Prometheus metrics are served (`GET /metrics`); `None`: not served.
    pub metrics_addr: Option<SocketAddr>,
    /// The PKCS#11 token holding the back-office key; `None`: the key file.
    pub office_token: Option<madoguchi_keyring::TokenConfig>,
    /// How long a client may take to send a header and to be answered (every listener).
    pub timeouts: Timeouts,
    /// Declared TLS-terminating proxies (`--tls-proxy`): their X-Forwarded-For names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The bucket of the identity documents; `None`: the data folder's `documents/`.
    pub documents_bucket: Option<S3Location>,
    /// The retention purge runs outside (`madoguchi purge` with its own role), not here.
    pub external_retention: bool,
}

/// A started server. Dropping it does not stop it; call [`RunningApp::stop`].
pub struct RunningApp {
    /// `None` when this process does not serve the public site (`--listener office`).
    pub public_addr: Option<SocketAddr>,
    /// `None` when this process does not serve the back office (`--listener public`).
    pub office_addr: Option<SocketAddr>,
    pub metrics_addr: Option<SocketAddr>,
    pub store: Store,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl RunningApp {
    /// Stops accepting requests, lets requests in flight finish, stops the workers.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
        self.store.close().await;
    }

    /// Waits until a task ends (it should not, before [`RunningApp::stop`]).
    pub async fn wait(&mut self) {
        self.tasks.join_next().await;
    }
}

/// Connects to `url`, or to the SQLite database of the data folder, and migrates.
pub async fn connect_store(url: Option<&str>, data: &DataDir) -> anyhow::Result<Store> {
    let url = url.map(str::to_owned).unwrap_or_else(|| data.sqlite_url());
    let store = Store::connect(&url)
        .await
        .with_context(|| format!("cannot open the database ({})", redact_url(&url)))?;
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    Ok(store)
}

/// The URL without its password, for messages.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

pub async fn start(config: AppConfig) -> anyhow::Result<RunningApp> {
    let store = connect_store(config.database_url.as_deref(), &config.data).await?;
    let keys = crate::commands::keys::public_keys(&config.data, &config.profile)?;
    // Identity documents: encrypted files in the data folder or objects in a bucket, data keys
    // wrapped to the office (following office.pub, so a rotated key applies at once).
    let documents = crate::documents::open(
        config.documents_bucket.as_ref(),
        &config.data,
        keys.envelope_writer(),
    )
    .await?;
    let profile = Arc::new(config.profile.clone());
    let cookies = CookiePolicy {
        secure: config.cookie_secure,
    };
    let (shutdown, stop) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let serves_public = matches!(config.listener, Listener::All | Listener::Public);
    let serves_office = matches!(config.listener, Listener::All | Listener::Office);

    let public_listener = match serves_public {
        true => Some(bind(config.public_addr, "public site").await?),
        false => None,
    };
    let public_addr = public_listener
        .as_ref()
        .map(TcpListener::local_addr)
        .transpose()?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", public_addr.unwrap_or(config.public_addr)));
    if let Some(listener) = public_listener {
        let public_state = PublicState::new(
            store.clone(),
            profile.clone(),
            keys,
            cookies,
            config.rate_limits,
            &public_url,
            documents.clone(),
        )
        .context("the message catalogue does not parse")?;
        tasks.spawn(madoguchi_public::suspension::watch(
            store.clone(),
            public_state.suspensions.clone(),
            stop.clone(),
        ));
        let public = madoguchi_public::router(public_state).layer(axum::middleware::from_fn(
            |request, next| crate::metrics::count_requests("public", request, next),
        ));
        tasks.spawn(serve_until(
            listener,
            public,
            config.timeouts,
            config.trusted_proxies.clone().into(),
            stop.clone(),
            "public site",
        ));
    }

    // Only the office half holds private keys: the public process never loads them.
    let office_addr = match serves_office {
        true => Some(
            start_office(
                &config,
                &store,
                &profile,
                &documents,
                &public_url,
                &mut tasks,
                &stop,
            )
            .await?,
        ),
        false => None,
    };
    let metrics_addr = match config.metrics_addr {
        Some(addr) => {
            Some(serve_metrics(addr, &store, config.timeouts, &mut tasks, stop.clone()).await?)
        }
        None => None,
    };
    Ok(RunningApp {
        public_addr,
        office_addr,
        metrics_addr,
        store,
        shutdown,
        tasks,
    })
}

async fn bind(addr: SocketAddr, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} ({what})"))
}

/// The back office's listener, the outbox worker, the audit checkpoints and the purge.
async fn start_office(
    config: &AppConfig,
    store: &Store,
    profile: &Arc<BankProfile>,
    documents: &DocumentStore,
    public_url: &str,
    tasks: &mut JoinSet<()>,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<SocketAddr> {
    let from: Mailbox = config.mail_from.parse().with_context(|| {
        format!(
            "--mail-from {:?} is not an e-mail address",
            config.mail_from
        )
    })?;
    let mail_keys = MailKeyring::load(&config.data.keys())?;
    let keyring = Arc::new(
        madoguchi_keyring::OfficeKeySource {
            keys_dir: config.data.keys(),
            token: config.office_token.clone(),
        }
        .load()
        .context("cannot load the back office's key")?,
    );
    let listener = bind(config.office_addr, "back office").await?;
    let office_addr = listener.local_addr()?;
    let passkeys = relying_party(config.office_url.as_deref(), office_addr, profile)?;
    let office_state = OfficeState::new(OfficeDeps {
        store: store.clone(),
        profile: profile.clone(),
        keys: crate::commands::keys::public_keys(&config.data, &config.profile)?,
        keyring: keyring.clone(),
        documents: documents.clone(),
        cookies: CookiePolicy {
            secure: config.cookie_secure,
        },
        allowed_clients: config.office_allowed_clients.clone(),
        public_url: public_url.to_owned(),
        handoff_dir: crate::commands::handoff::handoff_dir(&config.data),
        handoff_signing_key: config.data.keys().join(madoguchi_handoff::SIGNING_KEY_FILE),
        passkeys,
    });
    let office =
        madoguchi_office::router(office_state).layer(axum::middleware::from_fn(|request, next| {
            crate::metrics::count_requests("office", request, next)
        }));
    tasks.spawn(serve_until(
        listener,
        office,
        config.timeouts,
        config.trusted_proxies.clone().into(),
        stop.clone(),
        "back office",
    ));
    let worker = OutboxWorker::new(store.clone(), mail_keys, from, config.transport.clone());
    tasks.spawn(worker.run(stop.clone()));
    let audit_token = config
        .office_token
        .as_ref()
        .map(madoguchi_keyring::Token::open)
        .transpose()?;
    madoguchi_keyring::load_audit_signer(&config.data.keys(), audit_token.as_ref()).context(
        "cannot load the audit signing key (run `madoguchi keys init`: it adds a missing key)",
    )?;
    let sink = config
        .audit_sink
        .clone()
        .unwrap_or_else(|| crate::commands::audit::default_sink(&config.data));
    tasks.spawn(checkpoint_audit_log(
        store.clone(),
        config.data.keys(),
        audit_token,
        sink,
        stop.clone(),
    ));
    // After a key rotation: moves old records' data keys to the current key.
    // After a blind-index rotation: recomputes stored e-mail indexes with the current key.
    tasks.spawn(madoguchi_office::reindex::run_reindex(
        store.clone(),
        keyring.clone(),
        config.data.keys(),
        stop.clone(),
    ));
    tasks.spawn(madoguchi_office::key_rotation::run_rewrap(
        store.clone(),
        keyring,
        EnvelopeWriter::following(&config.data.keys().join(madoguchi_seal::keyfile::OFFICE_PUB))?,
        stop.clone(),
    ));
    if !config.external_retention {
        tasks.spawn(purge_expired(
            store.clone(),
            profile.clone(),
            documents.clone(),
            stop.clone(),
        ));
    }
    Ok(office_addr)
}

/// The back office as a passkey relying party: the configured origin (refused at start when
/// it cannot be one), or `http://localhost:PORT` for a loopback listener; otherwise none.
fn relying_party(
    office_url: Option<&str>,
    office_addr: SocketAddr,
    profile: &BankProfile,
) -> anyhow::Result<Option<RelyingParty>> {
    let bank = profile.bank().name_ja();
    match office_url {
        Some(url) => RelyingParty::new(url, bank)
            .map(Some)
            .with_context(|| format!("--office-url {url:?} cannot carry passkeys")),
        None if office_addr.ip().is_loopback() => {
            let url = format!("http://localhost:{}", office_addr.port());
            Ok(RelyingParty::new(&url, bank).ok())
        }
        None => {
            tracing::warn!(
                "the back office has no --office-url: staff passkeys are off (TOTP codes only)"
            );
            Ok(None)
        }
    }
}

/// Binds the metrics listener and serves it until the stop.
async fn serve_metrics(
    addr: SocketAddr,
    store: &Store,
    timeouts: Timeouts,
    tasks: &mut JoinSet<()>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (metrics)"))?;
    let bound = listener.local_addr()?;
    let router = crate::metrics::router(crate::metrics::recorder()?, store.clone());
    tasks.spawn(serve_until(
        listener,
        router,
        timeouts,
        Vec::new().into(),
        stop,
        "metrics",
    ));
    Ok(bound)
}

/// A checkpoint when the audit log grew by this many events since the last one…
const CHECKPOINT_EVERY_EVENTS: i64 = 1000;
/// …or when it grew at all and the last one is this old.
const CHECKPOINT_EVERY: time::Duration = time::Duration::seconds(60);

/// Every 10 seconds: signs the audit chain's head when it is due (see above), keeps the
/// checkpoint in the database and appends it to the sink. Several instances may do it; one
/// checkpoint per size is kept.
async fn checkpoint_audit_log(
    store: Store,
    keys_dir: PathBuf,
    token: Option<Arc<madoguchi_keyring::Token>>,
    sink: PathBuf,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        // Found each time: `keys rotate audit-signing` takes effect without a restart.
        let signed = match madoguchi_keyring::load_audit_signer(&keys_dir, token.as_ref()) {
            Ok(key) => checkpoint_if_due(&store, key.as_ref(), &sink).await,
            Err(e) => Err(e.into()),
        };
        if let Err(e) = signed {
            tracing::error!(error = %e, "the audit checkpoint was not written");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(10)) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return;
        }
    }
}

async fn checkpoint_if_due(
    store: &Store,
    key: &dyn madoguchi_audit::CheckpointSigner,
    sink: &std::path::Path,
) -> anyhow::Result<()> {
    let Some((size, _)) = store.audit_head().await? else {
        return Ok(());
    };
    let due = match store.last_audit_checkpoint().await? {
        None => true,
        Some(last) => {
            size - last.size >= CHECKPOINT_EVERY_EVENTS
                || (size > last.size
                    && time::OffsetDateTime::now_utc() - last.created_at >= CHECKPOINT_EVERY)
        }
    };
    if due {
        crate::commands::audit::write_checkpoint(store, key, sink).await?;
    }
    Ok(())
}

/// Every minute: one retention pass (`commands::purge`): expired e-mail checks and drafts,
/// documents of discarded or expired drafts, applications' personal data and identity
/// documents past the profile's retention, bookings' personal data past theirs — each
/// record's data key with it (crypto-shredding). A pass that deleted something is audited
/// (`system:purge`, counts only) and logged as counts, never content. Once an hour, stray
/// files of the documents folder are swept.
async fn purge_expired(
    store: Store,
    profile: Arc<BankProfile>,
    documents: DocumentStore,
    mut stop: watch::Receiver<bool>,
) {
    let mut passes: u64 = 0;
    loop {
        let now = time::OffsetDateTime::now_utc();
        let pass =
            crate::commands::purge::purge_once(&store, &documents, &profile, now, false).await;
        if pass.is_ok()
            && let Err(e) = store.record_job_run("retention", "ok", now).await
        {
            tracing::error!(error = %e, "the retention pass was not recorded");
        }
        match pass {
            Ok(report) if report.is_empty() => {}
            Ok(report) => {
                tracing::info!(counts = %report.counts(), "retention purge");
                let audited = crate::commands::purge::audit_run(
                    &store,
                    crate::commands::purge::SYSTEM_ACTOR,
                    &report,
                )
                .await;
                if let Err(e) = audited {
                    tracing::error!(error = %e, "the retention purge's audit event was not written");
                }
            }
            Err(e) => tracing::error!(error = %e, "retention purge failed"),
        }
        // Stray files (interrupted writes) once an hour.
        if passes.is_multiple_of(60) {
            match crate::documents::sweep_stray_files(&store, &documents).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(stray_files = n, "stray document files swept"),
                Err(e) => tracing::error!(error = %e, "sweeping document files failed"),
            }
        }
        passes += 1;
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return;
        }
    }
}
