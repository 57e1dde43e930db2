//! `[paths]`: where Watchkeeper keeps its data, logs and provisioning files.

use std::path::{Path, PathBuf};

use crate::raw::RawConfig;
use crate::reader::{Diagnostics, SectionReader};

/// `[paths]`; relative paths are resolved against the home path.
#[derive(Debug, Clone)]
pub struct PathsSettings {
    /// `data` (default `data`): the SQLite database and other state.
    pub data: PathBuf,
    /// `logs` (default `data/log`): log files.
    pub logs: PathBuf,
    /// `provisioning` (default `conf/provisioning`): provisioning YAML files.
    pub provisioning: PathBuf,
}

impl PathsSettings {
    pub(crate) fn read(raw: &RawConfig, homepath: &Path, diag: &mut Diagnostics) -> Self {
        let mut r = SectionReader::new(raw, "paths", diag);
        let mut path =
            |key: &str, default: &str| resolve(homepath, Path::new(&r.string(key, default)));
        PathsSettings {
            data: path("data", "data"),
            logs: path("logs", "data/log"),
            provisioning: path("provisioning", "conf/provisioning"),
        }
    }
}

/// `path` if it is absolute, else `root/path`.
pub(crate) fn resolve(root: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        root.join(path)
    }
}
