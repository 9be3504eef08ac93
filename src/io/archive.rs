//! Zip archives of a few files: the page's download of a run, which `dplay sample --model` reads
//! as it reads the folder.

use std::io::{Cursor, Write};

use zip::write::FileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::error::{Error, Result};

/// `files` (`(path, bytes)`, paths with `/`) as one deflated archive.
pub fn write_zip(files: &[(&str, &[u8])]) -> Result<Vec<u8>> {
    let bad = |e: zip::result::ZipError| Error::invalid(format!("cannot write the archive: {e}"));
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = FileOptions::default().compression_method(CompressionMethod::Deflated);
    for (path, bytes) in files {
        zip.start_file(*path, options).map_err(bad)?;
        zip.write_all(bytes)
            .map_err(|e| Error::invalid(format!("cannot write the archive: {e}")))?;
    }
    Ok(zip.finish().map_err(bad)?.into_inner())
}

/// Every file of the archive `bytes` (`origin` names it in errors), folders left out.
pub fn read_zip(bytes: &[u8], origin: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let bad = |e: zip::result::ZipError| Error::format(origin, format!("not a zip archive: {e}"));
    let mut zip = ZipArchive::new(Cursor::new(bytes)).map_err(bad)?;
    // The sizes in the headers are claims: inflate no more than one job may hold, in all.
    let mut left = crate::budget::Memory::of_machine().limit();
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let f = zip.by_index(i).map_err(bad)?;
        if f.is_dir() {
            continue;
        }
        let name = f.name().to_string();
        let v = crate::budget::read_bounded(f, left, origin, &format!("the entry {name}"))?;
        left -= v.len() as u64;
        out.push((name, v));
    }
    Ok(out)
}
