//! The media library: files of a site with folders, image variants and public serving.

pub mod folders;
pub mod library;
pub mod sniff;
pub mod variants;
