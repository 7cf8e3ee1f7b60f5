//! Verifier files are secrets (a verifier allows an offline guess of the password): the buffers
//! that hold a file's bytes, its fields and the decoded verifiers are wiped before they are
//! freed (issue 10). Each format is saved, loaded from disk and dropped under an allocator that
//! searches every freed heap block for the verifier, as text and as bytes.

use srp_core::{GroupId, Salt, Verifier, VerifierRecord};
use srp_test_support::alloc::{Tracking, Watch};
use srp_test_support::temp_dir;
use srp_verifier_files::{Format, VerifierDb, b64};

#[global_allocator]
static ALLOC: Tracking = Tracking;

/// A verifier that is easy to recognise and below every N: 0x3c followed by a byte pattern.
fn verifier_bytes(n_len: usize) -> Vec<u8> {
    (0..n_len).map(|i| if i == 0 { 0x3c } else { (i * 37 + 11) as u8 }).collect()
}

#[test]
fn saving_and_loading_a_verifier_file_leave_no_copy_of_a_verifier() {
    let dir = temp_dir!("wipe");
    let group = GroupId::G2048.group();
    let v = verifier_bytes(group.n_len());
    let record = VerifierRecord {
        salt: Salt::new(&[0x42; 20]).expect("salt"),
        verifier: Verifier::from_bytes(group, &v).expect("verifier below N"),
    };
    for format in [Format::OpenSsl, Format::GnuTls] {
        let path = dir.join(&format!("verifiers-{format}"));
        let mut db = VerifierDb::new(format);
        let user = srp_core::Username::new(b"alice").expect("username");
        db.add(user, record.clone()).expect("add");
        let text = match format {
            Format::OpenSsl => b64::encode_openssl(&v),
            Format::GnuTls => b64::encode_gnutls(&v),
        };
        let markers = || {
            vec![
                ("the verifier as base64".to_owned(), text.as_bytes().to_vec()),
                ("the verifier as bytes".to_owned(), v.clone()),
            ]
        };

        // Writing: the file's content is built and written without a copy left behind.
        let watch = Watch::start(markers());
        db.save(&path, None).expect("save");
        let found = watch.finish();
        assert!(found.is_empty(), "{format}: saving freed without wiping: {found:?}");
        drop(db);

        let watch = Watch::start(markers());
        let db = VerifierDb::load(&path, None, None).expect("load");
        assert_eq!(db.entries().len(), 1, "{format}: one user");
        drop(db);
        let found = watch.finish();
        assert!(found.is_empty(), "{format}: freed without being wiped: {found:?}");
    }
}
