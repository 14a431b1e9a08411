//! Command-line definitions (clap) of the Sealed Secrets commands: `seal` (kubeseal's flags),
//! `unseal`, `reseal` and `validate`.

use std::path::PathBuf;

use clap::Args;

#[derive(Args, Debug)]
pub(crate) struct SealArgs {
    /// The same as -f
    #[arg(value_name = "FILE", conflicts_with = "secret_file")]
    pub path: Option<PathBuf>,
    /// The Secret manifest(s) to seal (YAML stream or JSON); standard input when absent
    #[arg(short = 'f', long = "secret-file", value_name = "FILE")]
    pub secret_file: Option<PathBuf>,
    /// Write the SealedSecret(s) here (atomically, only on success) instead of standard output
    #[arg(short = 'w', long = "sealed-secret-file", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Output format: json or yaml (default json; yaml when -w names a .yaml/.yml file)
    #[arg(short = 'o', long = "format")]
    pub format: Option<String>,
    /// The sealing certificate: a file path, file:// URL, or http:// URL such as the controller's /v1/cert.pem
    #[arg(long, env = "SEALED_SECRETS_CERT")]
    pub cert: Option<String>,
    /// strict, namespace-wide or cluster-wide
    #[arg(long)]
    pub scope: Option<String>,
    /// The Secret's name (overrides the manifest's; needed with --raw in strict scope)
    #[arg(long)]
    pub name: Option<String>,
    /// The namespace when the manifest has none (default: "default")
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Seal one value (standard input or --from-file) and print only its base64
    #[arg(long)]
    pub raw: bool,
    /// With --raw: read the value from this file ([key=]path; the key is ignored)
    #[arg(long, value_name = "[KEY=]PATH")]
    pub from_file: Option<String>,
    /// Add the sealed items to this SealedSecret file (sealed for its name, namespace and scope)
    #[arg(long, value_name = "FILE")]
    pub merge_into: Option<PathBuf>,
    /// Seal Secrets that have no data and no stringData
    #[arg(long)]
    pub allow_empty_data: bool,
}

/// Private keys as kubeseal's `--recovery-private-key` takes them.
#[derive(Args, Debug)]
pub(crate) struct PrivateKeyArgs {
    /// Private key files: PEM (PKCS#1/PKCS#8) or a backup of the key Secrets; repeatable or
    /// comma-separated
    #[arg(long = "recovery-private-key", visible_alias = "private-key", value_name = "FILE", value_delimiter = ',')]
    pub private_keys: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub(crate) struct UnsealArgs {
    /// The same as -f
    #[arg(value_name = "FILE", conflicts_with = "file")]
    pub path: Option<PathBuf>,
    /// The SealedSecret manifest(s); standard input when absent
    #[arg(short = 'f', long = "secret-file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub keys: PrivateKeyArgs,
    /// Write the Secret(s) here (mode 0600, atomically) instead of standard output
    #[arg(short = 'w', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Output format: json or yaml (default json; yaml when -w names a .yaml/.yml file)
    #[arg(short = 'o', long = "format")]
    pub format: Option<String>,
    /// The namespace of SealedSecrets that name none (default: "default")
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Accepted for kubeseal compatibility (unsealing is what this command does)
    #[arg(long, hide = true)]
    pub recovery_unseal: bool,
}

#[derive(Args, Debug)]
pub(crate) struct ResealArgs {
    /// SealedSecret files, or directories searched for .yaml/.yml/.json files
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub keys: PrivateKeyArgs,
    /// The new sealing certificate
    #[arg(long, visible_alias = "to-cert", env = "SEALED_SECRETS_CERT")]
    pub cert: Option<String>,
    /// The namespace of SealedSecrets that name none (default: "default")
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct ValidateArgs {
    /// SealedSecret files, or directories searched for .yaml/.yml/.json files
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Check every sealed value against this certificate's key size and expiry
    #[arg(long, env = "SEALED_SECRETS_CERT")]
    pub cert: Option<String>,
    #[command(flatten)]
    pub keys: PrivateKeyArgs,
    /// The namespace of SealedSecrets that name none (default: "default")
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
}
