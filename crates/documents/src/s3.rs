//! The documents in an S3-compatible bucket (`object_store`, feature `s3`): one object per
//! document, named `PREFIX/<uuid>`, holding exactly the bytes the folder's file would hold
//! (sealed before upload; the bucket never sees plaintext, a name or a file name).
//!
//! Uploads are single PUTs (a document is at most a few MB): an object is whole or absent, so
//! there are no temporary objects. A new document is put with `If-None-Match: *`, so an id is
//! never overwritten. Requests time out (30 s) and are retried a little (2 times, 15 s in
//! all), so an unreachable bucket fails an upload cleanly instead of holding it for minutes.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{
    ClientOptions, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, RetryConfig,
};
use uuid::Uuid;

use crate::folder::strip_magic;
use crate::store::{FolderEntry, S3Location, SealedDocument, StoreFileError};

/// A bucket (and prefix) of encrypted documents. Cheap to clone.
#[derive(Debug, Clone)]
pub struct S3Bucket {
    store: Arc<AmazonS3>,
    location: S3Location,
    /// For messages: the endpoint as configured, or AWS's.
    endpoint: String,
}

impl S3Bucket {
    /// A client for `location`; credentials and other settings from the AWS environment.
    pub fn open(location: &S3Location) -> Result<S3Bucket, StoreFileError> {
        let endpoint = location.endpoint.clone().unwrap_or_else(|| {
            format!(
                "https://s3.{}.amazonaws.com",
                location.region.as_deref().unwrap_or("us-east-1")
            )
        });
        let retry = RetryConfig {
            max_retries: 2,
            retry_timeout: Duration::from_secs(15),
            ..RetryConfig::default()
        };
        let options = ClientOptions::new()
            .with_timeout(Duration::from_secs(30))
            .with_connect_timeout(Duration::from_secs(5))
            // Plain HTTP only when the endpoint says so (doctor reports it off loopback).
            .with_allow_http(endpoint.starts_with("http://"));
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&location.bucket)
            .with_client_options(options)
            .with_retry(retry);
        if let Some(endpoint) = &location.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let Some(region) = &location.region {
            builder = builder.with_region(region);
        }
        let store = builder.build().map_err(|e| StoreFileError::S3 {
            doing: "configuring the client",
            bucket: location.bucket.clone(),
            endpoint: endpoint.clone(),
            message: e.to_string(),
        })?;
        Ok(S3Bucket {
            store: Arc::new(store),
            location: location.clone(),
            endpoint,
        })
    }

    /// `s3://BUCKET/PREFIX at ENDPOINT`.
    pub fn describe(&self) -> String {
        format!("{} at {}", self.location.url(), self.endpoint)
    }

    /// The bucket's location.
    pub fn location(&self) -> &S3Location {
        &self.location
    }

    fn error(&self, doing: &'static str, e: object_store::Error) -> StoreFileError {
        StoreFileError::S3 {
            doing,
            bucket: self.location.bucket.clone(),
            endpoint: self.endpoint.clone(),
            message: e.to_string(),
        }
    }

    fn path(&self, id: &Uuid) -> Path {
        Path::from(self.location.key(id))
    }

    fn prefix(&self) -> Option<Path> {
        (!self.location.prefix.is_empty()).then(|| Path::from(self.location.prefix.as_str()))
    }

    /// Lists the prefix once: the bucket exists and the credentials may read it.
    pub async fn check(&self) -> Result<(), StoreFileError> {
        self.store
            .list_with_delimiter(self.prefix().as_ref())
            .await
            .map(|_| ())
            .map_err(|e| self.error("listing the documents", e))
    }

    pub(crate) async fn write(&self, sealed: &SealedDocument) -> Result<(), StoreFileError> {
        let options = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        self.store
            .put_opts(
                &self.path(&sealed.id()),
                PutPayload::from(sealed.bytes().to_vec()),
                options,
            )
            .await
            .map(|_| ())
            .map_err(|e| self.error("uploading a document", e))
    }

    pub(crate) async fn read_sealed(&self, id: &Uuid) -> Result<Option<Vec<u8>>, StoreFileError> {
        let got = match self.store.get(&self.path(id)).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.error("reading a document", e)),
        };
        let bytes = got
            .bytes()
            .await
            .map_err(|e| self.error("reading a document", e))?;
        strip_magic(bytes.to_vec())
            .map(Some)
            .map_err(StoreFileError::Io)
    }

    pub(crate) async fn delete(&self, id: &Uuid) -> Result<(), StoreFileError> {
        match self.store.delete(&self.path(id)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.error("deleting a document", e)),
        }
    }

    pub(crate) async fn list(&self) -> Result<Vec<FolderEntry>, StoreFileError> {
        let objects: Vec<_> = self
            .store
            .list(self.prefix().as_ref())
            .try_collect()
            .await
            .map_err(|e| self.error("listing the documents", e))?;
        let parent = match self.location.prefix.is_empty() {
            true => String::new(),
            false => format!("{}/", self.location.prefix),
        };
        Ok(objects
            .into_iter()
            .filter_map(|meta| {
                let name = meta.location.as_ref().strip_prefix(parent.as_str())?;
                let id = Uuid::parse_str(name).ok()?;
                Some(FolderEntry {
                    id,
                    temporary: false,
                    modified: SystemTime::from(meta.last_modified),
                })
            })
            .collect())
    }
}
