//! The clap definitions of the sops-compatible commands (set, unset, edit, exec-env, exec-file,
//! rotate, updatekeys, groups, completion); the command modules implement them.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use clap_complete::Shell;

use super::{EncryptArgs, IoArgs, KeyserviceArgs};

#[derive(Args, Debug)]
pub(crate) struct CompletionArgs {
    /// The shell: bash, zsh, fish, elvish or powershell
    pub shell: Shell,
}

#[derive(Args, Debug)]
pub(crate) struct EditArgs {
    /// The file and, for a new file, its master keys and selection rule, as for encrypt
    #[command(flatten)]
    pub enc: EncryptArgs,
    /// Decrypt even if the MAC does not match
    #[arg(long)]
    pub ignore_mac: bool,
    /// Show the sops metadata in the editor too: keys added to or removed from its key lists
    /// (and shamir_threshold) are applied, the data key is kept
    #[arg(short = 's', long)]
    pub show_master_keys: bool,
    /// Order in which key kinds are tried within a key group (default: age,pgp)
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "KINDS")]
    pub decryption_order: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct ExecEnvArgs {
    /// The encrypted file
    pub file: PathBuf,
    /// The command, run as /bin/sh -c COMMAND with the file's top-level keys in its environment
    pub command: String,
    /// Start from an empty environment: only the file's values
    #[arg(long)]
    pub pristine: bool,
    /// Input format: yaml, json, dotenv, ini, toml (default: from the file name)
    #[arg(long)]
    pub input_type: Option<String>,
    /// Order in which key kinds are tried within a key group (default: age,pgp)
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "KINDS")]
    pub decryption_order: Option<String>,
    /// Run the command as this user (name or uid): its uid, primary group, HOME, USER and
    /// LOGNAME, no supplementary groups. Needs root
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Replace gitseal with the command (exec) instead of running it as a child
    #[arg(long)]
    pub same_process: bool,
    /// Deprecated: start the command and return 0 at once, without waiting for it
    #[arg(long)]
    pub background: bool,
    #[command(flatten)]
    pub keyservice: KeyserviceArgs,
}

#[derive(Args, Debug)]
pub(crate) struct ExecFileArgs {
    /// The encrypted file
    pub file: PathBuf,
    /// The command, run as /bin/sh -c COMMAND; every {} is replaced by the plaintext file's path
    pub command: String,
    /// Write a regular file (mode 0600) instead of a FIFO, for commands that read it twice
    #[arg(long)]
    pub no_fifo: bool,
    /// The plaintext file's name inside the private directory
    #[arg(long, default_value = "tmp-file")]
    pub filename: String,
    /// Input format: yaml, json, dotenv, ini, toml or binary (default: from the file name)
    #[arg(long)]
    pub input_type: Option<String>,
    /// Format of the plaintext file (default: the input format)
    #[arg(long)]
    pub output_type: Option<String>,
    /// Order in which key kinds are tried within a key group (default: age,pgp)
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "KINDS")]
    pub decryption_order: Option<String>,
    /// Run the command as this user (name or uid), who gets the plaintext file. Needs root;
    /// $TMPDIR must be reachable by that user
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Refused: the plaintext file is removed when gitseal returns (sops's flag, deprecated)
    #[arg(long)]
    pub background: bool,
    #[command(flatten)]
    pub keyservice: KeyserviceArgs,
}

#[derive(Subcommand, Debug)]
pub(crate) enum GroupsCommand {
    /// Append a key group made of the given keys
    Add(Box<GroupsAddArgs>),
    /// Delete the key group at INDEX (0-based)
    Delete(GroupsDeleteArgs),
}

/// The file and where the result goes.
#[derive(Args, Debug)]
pub(crate) struct GroupsFileArgs {
    /// The encrypted file
    #[arg(short = 'f', long = "file")]
    pub file: Option<PathBuf>,
    /// Write the result back to the file (atomically) instead of standard output
    #[arg(short = 'i', long = "in-place")]
    pub in_place: bool,
    /// Input format: yaml, json, dotenv, ini, toml or binary (default: from the file name)
    #[arg(long)]
    pub input_type: Option<String>,
    /// How many key groups are needed to decrypt afterwards (default: the file's)
    #[arg(long = "shamir-secret-sharing-threshold", value_name = "N")]
    pub shamir_secret_sharing_threshold: Option<usize>,
    /// Order in which key kinds are tried within a key group (default: age,pgp)
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "KINDS")]
    pub decryption_order: Option<String>,
    #[command(flatten)]
    pub keyservice: super::KeyserviceArgs,
}

#[derive(Args, Debug)]
pub(crate) struct GroupsAddArgs {
    #[command(flatten)]
    pub common: GroupsFileArgs,
    /// age recipients of the new group (repeatable or comma-separated)
    #[arg(long = "age", value_name = "RECIPIENT")]
    pub age: Vec<String>,
    /// PGP fingerprints of the new group (repeatable or comma-separated)
    #[arg(long = "pgp", value_name = "FINGERPRINT")]
    pub pgp: Vec<String>,
    /// AWS KMS key ARNs of the new group (repeatable or comma-separated)
    #[arg(long = "kms", value_name = "ARN")]
    pub kms: Vec<String>,
    /// KMS encryption context for the keys of --kms, e.g. 'app:web,env:prod'
    #[arg(long = "encryption-context", value_name = "K:V,K2:V2")]
    pub encryption_context: Option<String>,
    /// AWS shared-config profile for the keys of --kms
    #[arg(long = "aws-profile", value_name = "PROFILE")]
    pub aws_profile: Option<String>,
    #[command(flatten)]
    pub foreign: super::ForeignKeyArgs,
}

#[derive(Args, Debug)]
pub(crate) struct GroupsDeleteArgs {
    #[command(flatten)]
    pub common: GroupsFileArgs,
    /// The index (0-based) of the group to delete
    pub index: usize,
}

#[derive(Args, Debug)]
pub(crate) struct RotateArgs {
    #[command(flatten)]
    pub io: IoArgs,
    /// age recipients to add to the first key group, comma-separated
    #[arg(long = "add-age", value_name = "RECIPIENTS")]
    pub add_age: Option<String>,
    /// age recipients to remove, comma-separated
    #[arg(long = "rm-age", value_name = "RECIPIENTS")]
    pub rm_age: Option<String>,
    /// PGP fingerprints to add to the first key group, comma-separated
    #[arg(long = "add-pgp", value_name = "FINGERPRINTS")]
    pub add_pgp: Option<String>,
    /// PGP fingerprints to remove, comma-separated
    #[arg(long = "rm-pgp", value_name = "FINGERPRINTS")]
    pub rm_pgp: Option<String>,
    /// AWS KMS key ARNs to add to the first key group, comma-separated (ARN+ROLE_ARN for a role)
    #[arg(long = "add-kms", value_name = "ARNS")]
    pub add_kms: Option<String>,
    /// AWS KMS key ARNs to remove, comma-separated
    #[arg(long = "rm-kms", value_name = "ARNS")]
    pub rm_kms: Option<String>,
    /// KMS encryption context for the keys of --add-kms, e.g. 'app:web,env:prod'
    #[arg(long = "encryption-context", value_name = "K:V,K2:V2")]
    pub encryption_context: Option<String>,
    /// Order in which key kinds are tried within a key group (default: age,pgp)
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "KINDS")]
    pub decryption_order: Option<String>,
    #[command(flatten)]
    pub foreign: super::ForeignRotateArgs,
    #[command(flatten)]
    pub keyservice: super::KeyserviceArgs,
    /// Set by the legacy form `-r FILE`, whose missing-file exit code differs (100, not 2)
    #[arg(long = "legacy-rotate", hide = true)]
    pub legacy: bool,
}

impl RotateArgs {
    pub(crate) fn changes_keys(&self) -> bool {
        [
            &self.add_age,
            &self.rm_age,
            &self.add_pgp,
            &self.rm_pgp,
            &self.add_kms,
            &self.rm_kms,
            &self.foreign.add_hc_vault_transit,
            &self.foreign.rm_hc_vault_transit,
        ]
        .iter()
        .any(|o| o.as_deref().is_some_and(|s| !s.trim().is_empty()))
    }
}

/// What `set` and `unset` share: the file and how to open it.
#[derive(Args, Debug)]
pub(crate) struct ChangeArgs {
    /// Input format: yaml, json, dotenv, ini, toml or binary (default: from the file name)
    #[arg(long)]
    pub input_type: Option<String>,
    /// Rewrite the encrypted file in this format (default: its own)
    #[arg(long)]
    pub output_type: Option<String>,
    /// Decrypt even if the MAC does not match
    #[arg(long)]
    pub ignore_mac: bool,
    /// Order in which key kinds are tried within a key group (default: age,pgp)
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "KINDS")]
    pub decryption_order: Option<String>,
    /// With set: do not write the file when the value is already there; with unset: a missing
    /// key is not an error
    #[arg(long)]
    pub idempotent: bool,
    /// Accepted for sops compatibility; the file keeps its key groups and threshold
    #[arg(long = "shamir-secret-sharing-threshold", value_name = "N", hide = true)]
    pub shamir_secret_sharing_threshold: Option<usize>,
    #[command(flatten)]
    pub keyservice: super::KeyserviceArgs,
}

#[derive(Args, Debug)]
pub(crate) struct SetArgs {
    /// The encrypted file, changed in place (atomically)
    pub file: Option<PathBuf>,
    /// Where, as a tree path: '["db"]["password"]', '["list"][0]'
    pub index: Option<String>,
    /// The value as JSON: '"text"', '5', 'true', '{"a": [1]}' (with --value-file: a file
    /// holding it)
    pub value: Option<String>,
    /// Read the JSON value from the file named by VALUE (keeps secrets off the command line)
    #[arg(long)]
    pub value_file: bool,
    /// Read the JSON value from standard input (then VALUE is not given)
    #[arg(long)]
    pub value_stdin: bool,
    #[command(flatten)]
    pub common: ChangeArgs,
}

#[derive(Args, Debug)]
pub(crate) struct UnsetArgs {
    /// The encrypted file, changed in place (atomically)
    pub file: Option<PathBuf>,
    /// What to remove, as a tree path: '["db"]["password"]', '["list"][0]'
    pub index: Option<String>,
    #[command(flatten)]
    pub common: ChangeArgs,
}

#[derive(Args, Debug)]
pub(crate) struct UpdatekeysArgs {
    /// The encrypted files to update, in place (atomically)
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Apply the change without asking
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
    /// Also make a new data key and encrypt every value anew (as `rotate` does), even when the
    /// keys are in sync: do this when a key is removed, since its holder may have kept the
    /// data key
    #[arg(long)]
    pub rotate: bool,
    /// Input format: yaml, json, dotenv, ini, toml or binary (default: from the file name)
    #[arg(long)]
    pub input_type: Option<String>,
    /// Order in which key kinds are tried within a key group (default: age,pgp)
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "KINDS")]
    pub decryption_order: Option<String>,
    #[command(flatten)]
    pub keyservice: super::KeyserviceArgs,
}

/// `gitseal publish FILE...`.
#[derive(Args, Debug)]
pub(crate) struct PublishArgs {
    /// The encrypted files (directories with --recursive)
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Publish without asking
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
    /// Publish the files under directory arguments
    #[arg(long)]
    pub recursive: bool,
    /// Leave file extensions out of destination names
    #[arg(long)]
    pub omit_extensions: bool,
    /// Order in which key kinds are tried within a key group (default: age,pgp)
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "KINDS")]
    pub decryption_order: Option<String>,
    #[command(flatten)]
    pub keyservice: super::KeyserviceArgs,
}

/// `gitseal textconv FILE`.
#[derive(Args, Debug)]
pub(crate) struct TextconvArgs {
    /// The file git gives (a temporary copy keeps the name, so the format is known)
    pub file: PathBuf,
    /// Order in which key kinds are tried within a key group (default: age,pgp)
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "KINDS")]
    pub decryption_order: Option<String>,
}

/// `gitseal git ...`.
#[derive(Subcommand, Debug)]
pub(crate) enum GitCommand {
    /// Configure the gitseal diff driver (textconv) and mark the files .sops.yaml covers in
    /// .gitattributes; idempotent
    Setup(GitSetupArgs),
}

/// `gitseal git setup`.
#[derive(Args, Debug)]
pub(crate) struct GitSetupArgs {
    /// Configure the driver in the user's git config instead of this repository's
    #[arg(long)]
    pub global: bool,
}

/// `gitseal check`.
#[derive(Args, Debug)]
pub(crate) struct CheckArgs {
    /// Check the staged content of the staged files (what a commit would record)
    #[arg(long)]
    pub staged: bool,
    /// Files to check (pre-commit passes them); default: the staged files with --staged, else
    /// every file git tracks
    pub paths: Vec<PathBuf>,
}

/// `gitseal diff`.
#[derive(Args, Debug)]
pub(crate) struct DiffArgs {
    /// Say which values changed without printing them (CI logs, pull-request comments)
    #[arg(long)]
    pub mask: bool,
    /// The old version: a file or REV:PATH (alone: the file, compared with HEAD:FILE)
    pub old: String,
    /// The new version: a file or REV:PATH
    pub new: Option<String>,
}

/// `gitseal merge-driver %O %A %B %P`.
#[derive(Args, Debug)]
pub(crate) struct MergeDriverArgs {
    /// The common ancestor's version (%O)
    pub base: PathBuf,
    /// Our version (%A): the merged result is written here
    pub ours: PathBuf,
    /// Their version (%B)
    pub theirs: PathBuf,
    /// The file's path in the repository (%P), for its format
    pub path: Option<PathBuf>,
}

/// `gitseal merge --resolve FILE`.
#[derive(Args, Debug)]
pub(crate) struct MergeArgs {
    /// The file git left in conflict: the key-by-key merge is done again from git's index, and
    /// what still conflicts opens in the editor with conflict markers, decrypted in a private
    /// directory; the result is encrypted into FILE with our keys
    #[arg(long, value_name = "FILE")]
    pub resolve: PathBuf,
}

/// `gitseal kustomize GENERATOR` (or `ksops GENERATOR`).
#[derive(Args, Debug)]
pub(crate) struct KustomizeArgs {
    /// The generator file kustomize passes (kind: ksops); without it, a KRM function: a
    /// ResourceList on standard input, a ResourceList out. `install DIR` copies this binary
    /// into DIR as `ksops` and under kustomize's plugin path (for init containers)
    #[arg(value_name = "GENERATOR | install DIR", num_args = 0..=2)]
    pub args: Vec<PathBuf>,
}

/// `gitseal render [DIR]`.
#[derive(Args, Debug)]
pub(crate) struct RenderArgs {
    /// The directory (default: the current one, as Argo CD runs it)
    pub dir: Option<PathBuf>,
}

/// `gitseal flux-secret`.
#[derive(Args, Debug)]
pub(crate) struct FluxSecretArgs {
    /// The age identity file
    #[arg(long, env = "SOPS_AGE_KEY_FILE")]
    pub identity: Option<PathBuf>,
    /// The Secret's name (the decryption.secretRef of the Flux Kustomization)
    #[arg(long, default_value = "sops-age")]
    pub name: String,
    /// The Secret's namespace (the Kustomization's)
    #[arg(long, default_value = "flux-system")]
    pub namespace: String,
    /// Write to this file (mode 0600) instead of standard output
    #[arg(long)]
    pub output: Option<PathBuf>,
}
