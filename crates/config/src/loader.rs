//! Layered loading with provenance. The layers, each overriding the one before:
//!
//! 1. the embedded `conf/defaults.ini`;
//! 2. `cfg:default.<section>.<key>=value` command-line arguments;
//! 3. the `--config` file, or `<homepath>/conf/custom.ini` if it exists (only non-empty values
//!    are copied; sections and keys are created as needed);
//! 4. environment variables `WATCHKEEPER_<SECTION>_<KEY>` for every key present so far and every
//!    key the typed settings know (empty variables are ignored);
//! 5. `cfg:<section>.<key>=value` command-line arguments;
//! 6. expansion of `${VAR}`, `$__env{VAR}` and `$__file{path}` in every value.
//!
//! Then the typed [`Settings`] are read and validated, and keys nobody reads are reported as
//! warnings. Every value keeps the [`Source`] that supplied it.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::PathBuf;

use crate::expand::expand;
use crate::ini::{self, DEFAULT_SECTION};
use crate::problem::{ConfigErrors, ConfigWarning, Problem};
use crate::raw::RawConfig;
use crate::reader::Diagnostics;
use crate::settings::{self, Settings};
use crate::source::Source;
use crate::unknown::{UserInput, warn_unknown};

/// The embedded defaults file; it lists and documents every key Watchkeeper reads.
pub const DEFAULTS_INI: &str = include_str!("../../../conf/defaults.ini");

/// Prefix of environment overrides: `WATCHKEEPER_<SECTION>_<KEY>`.
pub const ENV_PREFIX: &str = "WATCHKEEPER";

/// The file loaded (relative to the home path) when no `--config` is given, if it exists.
pub const CUSTOM_INI: &str = "conf/custom.ini";

/// What to load: the inputs of every layer, injectable for tests.
#[derive(Clone)]
pub struct LoadOptions {
    /// `--config FILE`; it must exist. `None` means `<homepath>/conf/custom.ini` if present.
    pub config_file: Option<PathBuf>,
    /// The home path: base of relative `[paths]` and of `conf/custom.ini`.
    pub homepath: PathBuf,
    /// Command-line arguments; those starting with `cfg:` are configuration overrides.
    pub args: Vec<String>,
    /// The environment, as `(name, value)` pairs.
    pub env: Vec<(String, String)>,
}

/// The result of a successful [`load`].
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The typed settings.
    pub settings: Settings,
    /// Non-fatal findings such as unknown keys.
    pub warnings: Vec<ConfigWarning>,
    /// Every merged value with its source, for debugging.
    pub raw: RawConfig,
}

/// A parsed `cfg:` argument.
struct CfgArg {
    name: String,
    value: String,
    source: Source,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            config_file: None,
            homepath: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            args: Vec::new(),
            env: Vec::new(),
        }
    }
}

impl LoadOptions {
    /// Options for the running process: its environment, and the working directory as home path
    /// unless `homepath` is given.
    pub fn from_process(
        config_file: Option<PathBuf>,
        homepath: Option<PathBuf>,
        args: Vec<String>,
    ) -> LoadOptions {
        let defaults = LoadOptions::default();
        LoadOptions {
            config_file,
            homepath: homepath.unwrap_or(defaults.homepath),
            args,
            env: process_env(),
        }
    }
}

/// The process environment; variables whose name or value is not UTF-8 are skipped.
pub fn process_env() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .collect()
}

impl fmt::Debug for LoadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args: Vec<String> = self
            .args
            .iter()
            .map(|arg| match Source::arg(arg) {
                Source::Arg { arg } => arg,
                _ => String::new(),
            })
            .collect();
        f.debug_struct("LoadOptions")
            .field("config_file", &self.config_file)
            .field("homepath", &self.homepath)
            .field("args", &args)
            .field("env", &format_args!("[{} variables]", self.env.len()))
            .finish()
    }
}

/// The environment variable that overrides `key` in `section`: `WATCHKEEPER_` + section
/// uppercased with `.` and `-` turned into `_` + `_` + key uppercased with `.` turned into `_`.
pub fn env_key(section: &str, key: &str) -> String {
    let section = section.to_uppercase().replace(['.', '-'], "_");
    let key = key.to_uppercase().replace('.', "_");
    format!("{ENV_PREFIX}_{section}_{key}")
}

/// Loads, merges, expands and validates the configuration; returns every problem at once.
pub fn load(opts: &LoadOptions) -> Result<Loaded, ConfigErrors> {
    let mut diag = Diagnostics::default();
    let env: HashMap<&str, &str> = opts
        .env
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let mut user = UserInput::default();
    let (default_args, args) = parse_args(&opts.args, &mut diag);

    let mut raw = embedded_defaults(&mut diag);
    apply_args(&mut raw, default_args, &mut user);
    overlay_file(&mut raw, opts, &mut user, &mut diag);
    apply_env(&mut raw, &env);
    apply_args(&mut raw, args, &mut user);
    expand_all(&mut raw, &env, &mut diag);

    let settings = Settings::read(&raw, &opts.homepath, &mut diag);
    warn_unknown(&user, &mut diag);
    if diag.problems.is_empty() {
        Ok(Loaded {
            settings,
            warnings: diag.warnings,
            raw,
        })
    } else {
        Err(ConfigErrors {
            problems: diag.problems,
        })
    }
}

fn embedded_defaults(diag: &mut Diagnostics) -> RawConfig {
    let (file, errors) = ini::parse(DEFAULTS_INI);
    for error in errors {
        let source = Source::Defaults { line: error.line };
        diag.problems
            .push(Problem::new(Some(source), "", "", "", error.message));
    }
    RawConfig::from_ini(&file, |line| Source::Defaults { line })
}

/// Splits `cfg:` arguments into default overrides (`cfg:default.…`) and normal ones.
fn parse_args(args: &[String], diag: &mut Diagnostics) -> (Vec<CfgArg>, Vec<CfgArg>) {
    let (mut defaults, mut normal) = (Vec::new(), Vec::new());
    for arg in args {
        let Some(setting) = arg.strip_prefix("cfg:") else {
            continue;
        };
        let source = Source::arg(arg);
        let parsed = setting
            .split_once('=')
            .filter(|(name, _)| !name.is_empty() && !name.starts_with('.') && !name.ends_with('.'));
        let Some((name, value)) = parsed else {
            let message = "invalid command-line argument: expected cfg:section.key=value";
            diag.problems
                .push(Problem::new(Some(source), "", "", "", message));
            continue;
        };
        let (list, name) = match name.strip_prefix("default.") {
            Some(name) => (&mut defaults, name),
            None => (&mut normal, name),
        };
        list.push(CfgArg {
            name: name.to_string(),
            value: value.to_string(),
            source,
        });
    }
    (defaults, normal)
}

/// Finds the `(section, key)` an argument names: an existing `section.key` (or a bare key of the
/// default section), else the text split at its last `.`.
fn resolve_name(raw: &RawConfig, name: &str) -> (String, String) {
    let existing = raw.keys().into_iter().find(|(section, key)| {
        if section == DEFAULT_SECTION && key == name {
            return true;
        }
        name.strip_prefix(section.as_str())
            .and_then(|rest| rest.strip_prefix('.'))
            == Some(key.as_str())
    });
    if let Some(found) = existing {
        return found;
    }
    match name.rsplit_once('.') {
        Some((section, key)) => (section.to_string(), key.to_string()),
        None => (DEFAULT_SECTION.to_string(), name.to_string()),
    }
}

fn apply_args(raw: &mut RawConfig, args: Vec<CfgArg>, user: &mut UserInput) {
    for arg in args {
        let (section, key) = resolve_name(raw, &arg.name);
        if raw.section(&section).is_none() {
            user.sections.push((section.clone(), arg.source.clone()));
        }
        if raw.get(&section, &key).is_none() {
            user.keys.push((
                section.clone(),
                key.clone(),
                arg.value.clone(),
                arg.source.clone(),
            ));
        }
        tracing::debug!(source = %arg.source, section, key, "applied command-line override");
        raw.set(&section, &key, arg.value, arg.source);
    }
}

fn overlay_file(
    raw: &mut RawConfig,
    opts: &LoadOptions,
    user: &mut UserInput,
    diag: &mut Diagnostics,
) {
    let path = match &opts.config_file {
        Some(path) => path.clone(),
        None => {
            let custom = opts.homepath.join(CUSTOM_INI);
            if !custom.exists() {
                return;
            }
            custom
        }
    };
    let text = match std::fs::read(&path).map(String::from_utf8) {
        Ok(Ok(text)) => text,
        Ok(Err(_)) => {
            let message = format!("configuration file {} is not valid UTF-8", path.display());
            diag.problems.push(Problem::new(None, "", "", "", message));
            return;
        }
        Err(err) => {
            let message = format!("cannot read configuration file {}: {err}", path.display());
            diag.problems.push(Problem::new(None, "", "", "", message));
            return;
        }
    };
    let (file, errors) = ini::parse(&text);
    let source = |line| Source::File {
        path: path.clone(),
        line,
    };
    for error in errors {
        diag.problems.push(Problem::new(
            Some(source(error.line)),
            "",
            "",
            "",
            error.message,
        ));
    }
    for section in &file.sections {
        user.sections
            .push((section.name.clone(), source(section.line)));
        for entry in &section.entries {
            let entry_source = source(entry.line);
            user.keys.push((
                section.name.clone(),
                entry.key.clone(),
                entry.value.clone(),
                entry_source.clone(),
            ));
            if !entry.value.is_empty() {
                raw.set(&section.name, &entry.key, entry.value.clone(), entry_source);
            }
        }
    }
}

fn apply_env(raw: &mut RawConfig, env: &HashMap<&str, &str>) {
    let mut candidates: BTreeSet<(String, String)> = raw.keys().into_iter().collect();
    candidates.extend(settings::known_keys());
    for (section, key) in candidates {
        let var = env_key(&section, &key);
        let Some(value) = env.get(var.as_str()).filter(|v| !v.is_empty()) else {
            continue;
        };
        tracing::debug!(%var, section, key, "applied environment override");
        raw.set(&section, &key, value.to_string(), Source::Env { var });
    }
}

fn expand_all(raw: &mut RawConfig, env: &HashMap<&str, &str>, diag: &mut Diagnostics) {
    let lookup = |name: &str| env.get(name).map(|value| value.to_string());
    for (section, key) in raw.keys() {
        let Some(current) = raw.get(&section, &key).cloned() else {
            continue;
        };
        match expand(&current.value, &lookup) {
            Ok(value) if value != current.value => raw.set(&section, &key, value, current.source),
            Ok(_) => {}
            Err(message) => diag.problems.push(Problem::new(
                Some(current.source),
                &section,
                &key,
                &current.value,
                message,
            )),
        }
    }
}

#[cfg(test)]
mod tests;
