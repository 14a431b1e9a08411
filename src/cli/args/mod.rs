//! Command-line definitions (clap), apart from the command logic.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

mod sealing;
mod sops;

pub(crate) use sealing::*;
pub(crate) use sops::*;

/// gitseal encrypts the values of YAML, JSON, dotenv and binary files in SOPS 3.x format.
#[derive(Parser, Debug)]
#[command(name = "gitseal", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// The .sops.yaml to use instead of searching the working directory and its parents
    #[arg(long, global = true, env = "SOPS_CONFIG", value_name = "PATH")]
    pub(crate) config: Option<PathBuf>,
}

/// One subcommand's parser: `gitseal decrypt ...` (what kustomize and Argo CD plugins,
/// helm-secrets and scripts run once per file) and `gitseal encrypt ...` (pre-commit hooks,
/// scripts), read by a parser that knows only that subcommand (the same definitions, without
/// building the others). Whatever it refuses, help included, goes to [`Cli`], so messages are
/// the same.
#[derive(Parser, Debug)]
#[command(name = "gitseal", max_term_width = 100)]
pub(crate) struct OneCommand<C: Subcommand> {
    #[command(subcommand)]
    pub(crate) command: C,
    #[arg(long, global = true, env = "SOPS_CONFIG", value_name = "PATH")]
    pub(crate) config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub(crate) enum DecryptOnly {
    Decrypt(DecryptArgs),
}

#[derive(Subcommand, Debug)]
pub(crate) enum EncryptOnly {
    Encrypt(Box<EncryptArgs>),
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Encrypt a file (to stdout, --output, or in place with -i)
    Encrypt(Box<EncryptArgs>),
    /// Decrypt a file (to stdout, --output, or in place with -i)
    Decrypt(DecryptArgs),
    /// Create an age identity (key pair) file, or with --sealing an RSA sealing key pair
    Keygen(KeygenArgs),
    /// Seal Secrets into SealedSecrets (kubeseal-compatible, offline with --cert)
    Seal(SealArgs),
    /// Unseal SealedSecrets with private keys (kubeseal --recovery-unseal)
    Unseal(UnsealArgs),
    /// Re-encrypt SealedSecrets from old private keys to a new certificate
    Reseal(ResealArgs),
    /// Check SealedSecrets offline (structure, key size, scope; with keys: full unseal)
    Validate(ValidateArgs),
    /// Set the value at a tree path in an encrypted file, in place: set FILE '["a"]["b"]' JSON
    Set(SetArgs),
    /// Remove the key or list item at a tree path from an encrypted file, in place
    Unset(UnsetArgs),
    /// Run a command with the file's top-level values in its environment (/bin/sh -c)
    ExecEnv(ExecEnvArgs),
    /// Run a command with the decrypted file at {} (a FIFO by default) in a private directory
    ExecFile(ExecFileArgs),
    /// Edit an encrypted file in $SOPS_EDITOR/$EDITOR; a new file starts from an example
    Edit(Box<EditArgs>),
    /// Tell whether a file is encrypted: prints {"encrypted":true} or {"encrypted":false}
    Filestatus(FilestatusArgs),
    /// Make a new data key and encrypt every value anew; --add-*/--rm-* change the master keys
    Rotate(Box<RotateArgs>),
    /// Sync a file's master keys to its creation rule in .sops.yaml (the data key is kept)
    Updatekeys(UpdatekeysArgs),
    /// Publish files to the destination of their .sops.yaml destination_rules (Vault KV v1/v2)
    Publish(PublishArgs),
    /// Add or delete a key group of an encrypted file
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell
    Completion(CompletionArgs),
    /// Print a file decrypted for git diff (the textconv of the gitseal diff driver); never fails a diff
    Textconv(TextconvArgs),
    /// Semantic diff of two versions of a file by key path (files or REV:PATH; one FILE: against HEAD)
    Diff(DiffArgs),
    /// git merge driver: merge three versions of an encrypted file key by key into %A
    #[command(name = "merge-driver")]
    MergeDriver(MergeDriverArgs),
    /// Finish git's conflicted merge of an encrypted file: --resolve FILE (decrypted conflict in the editor)
    Merge(MergeArgs),
    /// kustomize exec generator plugin, KSOPS-compatible (kind: ksops); also runs as `ksops`
    Kustomize(KustomizeArgs),
    /// Print every Kubernetes manifest under DIR as one YAML stream, decrypted (Argo CD plugin generate)
    Render(RenderArgs),
    /// Print the Secret Flux decrypts SOPS files with (identity.agekey from an age key file)
    FluxSecret(FluxSecretArgs),
    /// Pre-commit guard: files .sops.yaml covers are encrypted, no plaintext Secret or credential is committed
    Check(CheckArgs),
    /// git integration: `git setup` configures the diff driver and .gitattributes
    #[command(subcommand)]
    Git(GitCommand),
}

/// Where input comes from and output goes, shared by encrypt and decrypt.
#[derive(Args, Debug)]
pub(crate) struct IoArgs {
    /// The file to read; standard input when absent
    pub file: Option<PathBuf>,
    /// Write the result back to the input file (atomically)
    #[arg(short = 'i', long = "in-place")]
    pub in_place: bool,
    /// Write the result to this file instead of standard output
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Input format: yaml, json, dotenv, ini, toml or binary (default: from the file name)
    #[arg(long)]
    pub input_type: Option<String>,
    /// Output format: yaml, json, dotenv, ini, toml or binary (default: the input format)
    #[arg(long)]
    pub output_type: Option<String>,
    /// Use this name to pick the format (needed with standard input)
    #[arg(long)]
    pub filename_override: Option<String>,
}

/// `--indent`, for the commands that write YAML or JSON anew (encrypt, decrypt).
#[derive(Args, Debug)]
pub(crate) struct IndentArg {
    /// Indentation (spaces) for YAML/JSON that gitseal writes anew
    #[arg(long)]
    pub indent: Option<usize>,
}

#[derive(Args, Debug)]
pub(crate) struct EncryptArgs {
    #[command(flatten)]
    pub io: IoArgs,
    #[command(flatten)]
    pub indent: IndentArg,
    /// age recipients, comma-separated (age1..., ssh-ed25519/ssh-rsa public keys, plugin recipients)
    #[arg(short = 'a', long = "age", env = "SOPS_AGE_RECIPIENTS", hide_env_values = true)]
    pub age: Option<String>,
    /// PGP fingerprints, comma-separated (encrypted with the gpg binary)
    #[arg(short = 'p', long = "pgp", env = "SOPS_PGP_FP", hide_env_values = true)]
    pub pgp: Option<String>,
    /// AWS KMS key ARNs, comma-separated, each optionally ARN+ROLE_ARN to assume a role
    #[arg(short = 'k', long = "kms", env = "SOPS_KMS_ARN", hide_env_values = true)]
    pub kms: Option<String>,
    /// KMS encryption context for the keys of --kms/--key-group, e.g. 'app:web,env:prod'
    #[arg(long = "encryption-context", value_name = "K:V,K2:V2")]
    pub encryption_context: Option<String>,
    /// AWS shared-config profile for the keys of --kms/--key-group
    #[arg(long = "aws-profile", value_name = "PROFILE")]
    pub aws_profile: Option<String>,
    /// RSA sealing certificates (Sealed Secrets), PEM files; repeatable or comma-separated
    #[arg(long = "rsa", value_name = "CERT", env = "GITSEAL_RSA_CERTS", value_delimiter = ',')]
    pub rsa: Vec<String>,
    /// What RSA keys bind the data key to: strict (namespace/name), namespace-wide or
    /// cluster-wide (default: strict for a Kubernetes Secret manifest, else cluster-wide)
    #[arg(long = "rsa-scope", value_name = "SCOPE")]
    pub rsa_scope: Option<String>,
    /// A key group, e.g. 'age:age1...,age1...;pgp:FPR;kms:ARN;rsa:cert.pem' (repeatable;
    /// --age/--pgp/--kms/--rsa form the first group)
    #[arg(long = "key-group", value_name = "KIND:KEYS[;KIND:KEYS]")]
    pub key_group: Vec<String>,
    /// How many key groups are needed to decrypt (with several groups; default: all)
    #[arg(long = "shamir-secret-sharing-threshold", value_name = "N")]
    pub shamir_secret_sharing_threshold: Option<usize>,
    /// Keys ending with this suffix stay plaintext (default: _unencrypted)
    #[arg(long)]
    pub unencrypted_suffix: Option<String>,
    /// Only keys ending with this suffix are encrypted
    #[arg(long)]
    pub encrypted_suffix: Option<String>,
    /// Keys matching this regex stay plaintext
    #[arg(long)]
    pub unencrypted_regex: Option<String>,
    /// Only keys matching this regex are encrypted
    #[arg(long)]
    pub encrypted_regex: Option<String>,
    /// Values after a comment matching this regex stay plaintext
    #[arg(long)]
    pub unencrypted_comment_regex: Option<String>,
    /// Only values after a comment matching this regex are encrypted
    #[arg(long)]
    pub encrypted_comment_regex: Option<String>,
    /// The MAC covers only encrypted values, so plaintext values can be edited freely
    #[arg(long)]
    pub mac_only_encrypted: bool,
    /// More files: with several files, -i is required and each file uses its own creation rule
    #[arg(value_name = "MORE_FILES")]
    pub more_files: Vec<PathBuf>,
    /// Encrypt the files under directory arguments (hidden files and directories are skipped)
    #[arg(long)]
    pub recursive: bool,
    #[command(flatten)]
    pub foreign: ForeignKeyArgs,
    #[command(flatten)]
    pub keyservice: KeyserviceArgs,
}

#[derive(Args, Debug)]
pub(crate) struct DecryptArgs {
    #[command(flatten)]
    pub io: IoArgs,
    #[command(flatten)]
    pub indent: IndentArg,
    /// Output only this part of the tree, e.g. '["db"]["password"]'
    #[arg(long)]
    pub extract: Option<String>,
    /// Decrypt even if the MAC does not match
    #[arg(long)]
    pub ignore_mac: bool,
    /// Order in which key kinds are tried within a key group (default: age,pgp)
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "KINDS")]
    pub decryption_order: Option<String>,
    /// RSA sealing private keys: PEM (PKCS#1/PKCS#8) or a backup of the key Secrets; repeatable
    /// (default: the colon-separated files of GITSEAL_RSA_PRIVATE_KEYS)
    #[arg(long = "rsa-private-key", value_name = "FILE")]
    pub rsa_private_key: Vec<PathBuf>,
    /// More files: decrypted in place with -i, else written to standard output as one YAML stream
    #[arg(value_name = "MORE_FILES")]
    pub more_files: Vec<PathBuf>,
    /// Decrypt the files under directory arguments (hidden files and directories are skipped)
    #[arg(long)]
    pub recursive: bool,
    #[command(flatten)]
    pub keyservice: KeyserviceArgs,
}

#[derive(Args, Debug)]
pub(crate) struct FilestatusArgs {
    /// The file to check
    pub file: PathBuf,
    /// Input format: yaml, json, dotenv or binary (default: from the file name)
    #[arg(long)]
    pub input_type: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct KeygenArgs {
    /// Write the identity to this file (mode 0600) instead of standard output
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// Make an RSA sealing key pair (Sealed Secrets): the private key goes to -o (required),
    /// the certificate to --cert-output or standard output
    #[arg(long)]
    pub sealing: bool,
    /// With --sealing: write the certificate here
    #[arg(long, requires = "sealing")]
    pub cert_output: Option<PathBuf>,
    /// With --sealing: RSA key size in bits
    #[arg(long, default_value_t = 4096, requires = "sealing")]
    pub key_size: usize,
    /// With --sealing: the certificate's common name (empty, as the controller's default)
    #[arg(long, default_value = "", requires = "sealing")]
    pub my_cn: String,
}

/// sops's key-service flags. gitseal always uses the keys of this machine and talks to no key
/// service, so `--keyservice` is an error rather than a flag that is silently dropped.
#[derive(Args, Debug, Default)]
pub(crate) struct KeyserviceArgs {
    /// Accepted for sops compatibility: gitseal always uses the local keys
    #[arg(long, hide = true, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub enable_local_keyservice: Option<bool>,
    /// sops key services (not supported: gitseal uses the local keys)
    #[arg(long, hide = true, env = "SOPS_KEYSERVICE", value_delimiter = ',', value_name = "URI")]
    pub keyservice: Vec<String>,
}

impl KeyserviceArgs {
    /// Fails when a key service was asked for.
    pub(crate) fn check(&self) -> Result<(), super::Failure> {
        match self.keyservice.iter().find(|k| !k.trim().is_empty()) {
            Some(k) => Err(super::Failure::new(
                super::exit::GENERIC,
                format!("--keyservice {k}: sops key services are not supported; gitseal uses the keys of this machine (unset SOPS_KEYSERVICE)"),
            )),
            None => Ok(()),
        }
    }
}

/// The master-key kinds of sops that gitseal does not encrypt for. Accepted so that they fail
/// with a clear message instead of an unknown-flag error or, worse, a file written without them.
#[derive(Args, Debug, Default)]
pub(crate) struct ForeignKeyArgs {
    /// GCP KMS resource IDs (not supported)
    #[arg(long = "gcp-kms", hide = true, env = "SOPS_GCP_KMS_IDS", value_name = "IDS")]
    pub gcp_kms: Option<String>,
    /// Azure Key Vault key URLs (not supported)
    #[arg(long = "azure-kv", hide = true, env = "SOPS_AZURE_KEYVAULT_URLS", value_name = "URLS")]
    pub azure_kv: Option<String>,
    /// HashiCorp Vault (or OpenBao) transit keys, comma-separated URIs
    /// (https://vault:8200/v1/ENGINE/keys/NAME); token from VAULT_TOKEN or ~/.vault-token
    #[arg(long = "hc-vault-transit", env = "SOPS_VAULT_URIS", value_name = "URIS")]
    pub hc_vault_transit: Option<String>,
    /// HuaweiCloud KMS key IDs (not supported)
    #[arg(long = "hckms", hide = true, value_name = "IDS")]
    pub hckms: Option<String>,
}

impl ForeignKeyArgs {
    /// Fails when a key of a kind gitseal does not support was given.
    pub(crate) fn check(&self) -> Result<(), super::Failure> {
        foreign_check(&[("--gcp-kms", &self.gcp_kms), ("--azure-kv", &self.azure_kv), ("--hckms", &self.hckms)])
    }
}

/// [`ForeignKeyArgs`] for `rotate`: the `--add-*`/`--rm-*` forms.
#[derive(Args, Debug, Default)]
pub(crate) struct ForeignRotateArgs {
    #[arg(long = "add-gcp-kms", hide = true, value_name = "IDS")]
    pub add_gcp_kms: Option<String>,
    #[arg(long = "rm-gcp-kms", hide = true, value_name = "IDS")]
    pub rm_gcp_kms: Option<String>,
    #[arg(long = "add-azure-kv", hide = true, value_name = "URLS")]
    pub add_azure_kv: Option<String>,
    #[arg(long = "rm-azure-kv", hide = true, value_name = "URLS")]
    pub rm_azure_kv: Option<String>,
    /// Vault transit URIs to add to the first key group, comma-separated
    #[arg(long = "add-hc-vault-transit", value_name = "URIS")]
    pub add_hc_vault_transit: Option<String>,
    /// Vault transit URIs to remove, comma-separated
    #[arg(long = "rm-hc-vault-transit", value_name = "URIS")]
    pub rm_hc_vault_transit: Option<String>,
    #[arg(long = "add-hckms", hide = true, value_name = "IDS")]
    pub add_hckms: Option<String>,
    #[arg(long = "rm-hckms", hide = true, value_name = "IDS")]
    pub rm_hckms: Option<String>,
}

impl ForeignRotateArgs {
    /// Fails when a key of a kind gitseal does not support was given.
    pub(crate) fn check(&self) -> Result<(), super::Failure> {
        foreign_check(&[
            ("--add-gcp-kms", &self.add_gcp_kms),
            ("--rm-gcp-kms", &self.rm_gcp_kms),
            ("--add-azure-kv", &self.add_azure_kv),
            ("--rm-azure-kv", &self.rm_azure_kv),
            ("--add-hckms", &self.add_hckms),
            ("--rm-hckms", &self.rm_hckms),
        ])
    }
}

fn foreign_check(flags: &[(&str, &Option<String>)]) -> Result<(), super::Failure> {
    match flags.iter().find(|(_, v)| v.as_deref().is_some_and(|v| !v.trim().is_empty())) {
        Some((flag, _)) => Err(super::Failure::new(
            super::exit::GENERIC,
            format!("{flag}: this kind of master key is not supported; gitseal encrypts for age, PGP, AWS KMS and RSA sealing keys"),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses every case (arguments after the program name) with the full parser and with the
    /// one-command parser `C`. Where `C` accepts, the full parser must accept too and give the
    /// same arguments (compared through `Debug`: `full` picks the command's, `only` gives `C`'s)
    /// and the same `--config`; where `C` refuses, the full parser reports (it may accept
    /// `--version`). Returns how many cases `C` accepted.
    fn one_command_agrees<C: Subcommand + std::fmt::Debug>(
        cases: &[&[&str]],
        full: fn(Command) -> Option<String>,
        only: fn(C) -> String,
    ) -> usize {
        let mut agreed = 0;
        for case in cases {
            let argv: Vec<&str> = std::iter::once("gitseal").chain(case.iter().copied()).collect();
            let whole = Cli::try_parse_from(&argv);
            if let Ok(one) = OneCommand::<C>::try_parse_from(&argv) {
                let whole = whole.unwrap_or_else(|e| panic!("{case:?}: the full parser refuses: {e}"));
                let a = full(whole.command).unwrap_or_else(|| panic!("{case:?}: another command"));
                assert_eq!(a, only(one.command), "{case:?}");
                assert_eq!(whole.config, one.config, "{case:?}");
                agreed += 1;
            }
        }
        agreed
    }

    /// The decrypt-only parser gives what the full one gives, and refuses what it refuses.
    #[test]
    fn decrypt_only_parser_agrees_with_the_full_one() {
        let cases: &[&[&str]] = &[
            &["decrypt", "f.yaml"],
            &["decrypt", "--output-type", "json", "--extract", "[\"a\"]", "f.yaml"],
            &["decrypt", "-i", "--ignore-mac", "--indent", "4", "f.yaml"],
            &["decrypt", "--config", "c.yaml", "--input-type", "yaml", "--output", "o", "f", "g", "--recursive"],
            &["decrypt", "--rsa-private-key", "k.pem", "--decryption-order", "age,pgp", "-"],
            &["decrypt", "--no-such-flag", "f.yaml"],
            &["decrypt", "--help"],
            &["decrypt"],
            &["decrypt", "--version"],
        ];
        let agreed = one_command_agrees::<DecryptOnly>(
            cases,
            |full| match full {
                Command::Decrypt(a) => Some(format!("{a:?}")),
                _ => None,
            },
            |DecryptOnly::Decrypt(b)| format!("{b:?}"),
        );
        // All but the unknown flag, `--help` and `--version` went through the decrypt-only parser.
        assert_eq!(agreed, cases.len() - 3);
    }

    /// The encrypt-only parser gives what the full one gives, and refuses what it refuses.
    #[test]
    fn encrypt_only_parser_agrees_with_the_full_one() {
        let cases: &[&[&str]] = &[
            &["encrypt", "f.yaml"],
            &["encrypt", "--age", "age1abc,age1def", "--encrypted-regex", "^data$", "f.yaml"],
            &["encrypt", "-i", "--pgp", "FP", "--kms", "arn:a", "--shamir-secret-sharing-threshold", "2", "f"],
            &[
                "encrypt",
                "--config",
                "c.yaml",
                "--input-type",
                "json",
                "--output",
                "o",
                "--filename-override",
                "x",
                "-",
            ],
            &["encrypt", "--unencrypted-suffix", "_u", "--mac-only-encrypted", "--indent", "4", "f.yaml"],
            &["encrypt", "--no-such-flag", "f.yaml"],
            &["encrypt", "--help"],
            &["encrypt", "--version"],
        ];
        let agreed = one_command_agrees::<EncryptOnly>(
            cases,
            |full| match full {
                Command::Encrypt(a) => Some(format!("{a:?}")),
                _ => None,
            },
            |EncryptOnly::Encrypt(b)| format!("{b:?}"),
        );
        // All but the unknown flag, `--help` and `--version` went through the encrypt-only parser.
        assert_eq!(agreed, cases.len() - 3);
    }
}
