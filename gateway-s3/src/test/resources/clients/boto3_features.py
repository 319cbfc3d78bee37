"""Issue 18's features through Debian's python3-boto3 (run by ClientFeaturesTest): versioning and
delete markers, object lock, checksums, tagging, lifecycle, ACLs and a bucket policy between two
users and anonymous callers, CORS, and a browser POST upload from generate_presigned_post."""
import datetime, json, sys, urllib.error, urllib.request, uuid
import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, alice_key, alice_secret, bob_key, bob_secret = sys.argv[1:6]
cfg = Config(signature_version="s3v4", s3={"addressing_style": "path"})


def client(key, secret):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", config=cfg,
                        aws_access_key_id=key, aws_secret_access_key=secret)


alice, bob = client(alice_key, alice_secret), client(bob_key, bob_secret)
anon = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                    config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"}))


def code(f, *a, **kw):
    try:
        f(*a, **kw)
        return "ok"
    except ClientError as e:
        return e.response["Error"]["Code"]


def http(method, url, headers=None):
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


# Versioning: versions, a delete marker, reading an old version, removing the marker.
alice.create_bucket(Bucket="versions")
alice.put_bucket_versioning(Bucket="versions", VersioningConfiguration={"Status": "Enabled"})
v1 = alice.put_object(Bucket="versions", Key="k", Body=b"one")["VersionId"]
v2 = alice.put_object(Bucket="versions", Key="k", Body=b"two")["VersionId"]
marker = alice.delete_object(Bucket="versions", Key="k")
assert marker["DeleteMarker"] is True, marker
assert code(alice.get_object, Bucket="versions", Key="k") == "NoSuchKey"
assert alice.get_object(Bucket="versions", Key="k", VersionId=v1)["Body"].read() == b"one"
listed = alice.list_object_versions(Bucket="versions")
assert [v["VersionId"] for v in listed["Versions"]] == [v2, v1], listed["Versions"]
assert len(listed["DeleteMarkers"]) == 1 and listed["DeleteMarkers"][0]["IsLatest"]
alice.delete_object(Bucket="versions", Key="k", VersionId=marker["VersionId"])
assert alice.get_object(Bucket="versions", Key="k")["Body"].read() == b"two"

# Object lock: a default retention, a legal hold; locked versions cannot be deleted.
alice.create_bucket(Bucket="locked", ObjectLockEnabledForBucket=True)
alice.put_object_lock_configuration(Bucket="locked", ObjectLockConfiguration={
    "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
lv = alice.put_object(Bucket="locked", Key="doc", Body=b"keep")["VersionId"]
ret = alice.get_object_retention(Bucket="locked", Key="doc", VersionId=lv)["Retention"]
assert ret["Mode"] == "GOVERNANCE", ret
assert code(alice.delete_object, Bucket="locked", Key="doc", VersionId=lv) == "AccessDenied"
alice.put_object_legal_hold(Bucket="locked", Key="doc", VersionId=lv, LegalHold={"Status": "ON"})
assert code(alice.delete_object, Bucket="locked", Key="doc", VersionId=lv,
            BypassGovernanceRetention=True) == "AccessDenied"
alice.put_object_legal_hold(Bucket="locked", Key="doc", VersionId=lv, LegalHold={"Status": "OFF"})
alice.delete_object(Bucket="locked", Key="doc", VersionId=lv, BypassGovernanceRetention=True)

# Checksums, tagging, lifecycle.
alice.create_bucket(Bucket="features")
put = alice.put_object(Bucket="features", Key="c", Body=b"checked", ChecksumAlgorithm="SHA256",
                       Tagging="team=storage&tier=hot")
got = alice.get_object(Bucket="features", Key="c", ChecksumMode="ENABLED")
assert got["ChecksumSHA256"] == put["ChecksumSHA256"], (got, put)
tags = alice.get_object_tagging(Bucket="features", Key="c")["TagSet"]
assert tags == [{"Key": "team", "Value": "storage"}, {"Key": "tier", "Value": "hot"}], tags
rules = [{"ID": "old", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 30},
          "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}}]
alice.put_bucket_lifecycle_configuration(Bucket="features", LifecycleConfiguration={"Rules": rules})
got_rules = alice.get_bucket_lifecycle_configuration(Bucket="features")["Rules"]
assert got_rules[0]["Expiration"]["Days"] == 30 and got_rules[0]["Filter"]["Prefix"] == "logs/", got_rules
exp = alice.put_object(Bucket="features", Key="logs/today", Body=b"x").get("Expiration", "")
assert 'rule-id="old"' in exp, exp

# Users: bob is refused alice's bucket until an ACL grants him (by e-mail); anonymous callers
# get what a bucket policy gives everyone, and nothing else.
assert code(bob.get_object, Bucket="features", Key="c") == "AccessDenied"
assert code(bob.create_bucket, Bucket="features") == "BucketAlreadyExists"
alice.put_object_acl(Bucket="features", Key="c", GrantRead='emailAddress="bob@example.com"',
                     GrantFullControl='id="alice"')
assert bob.get_object(Bucket="features", Key="c")["Body"].read() == b"checked"
assert code(bob.put_object, Bucket="features", Key="b", Body=b"b") == "AccessDenied"
assert code(anon.get_object, Bucket="features", Key="c") == "AccessDenied"
alice.put_bucket_policy(Bucket="features", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::features/pub/*"}]}))
alice.put_object(Bucket="features", Key="pub/page", Body=b"public")
assert anon.get_object(Bucket="features", Key="pub/page")["Body"].read() == b"public"
assert code(anon.get_object, Bucket="features", Key="c") == "AccessDenied"
assert alice.get_bucket_policy_status(Bucket="features")["PolicyStatus"]["IsPublic"] is True
assert code(alice.put_bucket_policy, Bucket="features",
            Policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",'
                   '"NotAction":"s3:GetObject","Resource":"arn:aws:s3:::features/*"}]}') == "NotImplemented"

# CORS: a configuration, a preflight answered from it, the headers on a real GET.
alice.put_bucket_cors(Bucket="features", CORSConfiguration={"CORSRules": [{
    "AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET", "PUT"],
    "AllowedHeaders": ["*"], "MaxAgeSeconds": 600}]})
status, headers, _ = http("OPTIONS", endpoint + "/features/pub/page", {
    "Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT"})
assert status == 200 and headers.get("Access-Control-Allow-Origin") == "https://app.example.com", (status, headers)
status, _, _ = http("OPTIONS", endpoint + "/features/pub/page", {
    "Origin": "https://evil.example.com", "Access-Control-Request-Method": "PUT"})
assert status == 403, status
status, headers, body = http("GET", endpoint + "/features/pub/page", {"Origin": "https://app.example.com"})
assert body == b"public" and headers.get("Access-Control-Allow-Origin") == "https://app.example.com", headers

# A browser POST upload from boto3's own presigned POST (policy with conditions).
post = alice.generate_presigned_post("features", "uploads/${filename}",
                                     Conditions=[["starts-with", "$key", "uploads/"],
                                                 ["content-length-range", 1, 1000]], ExpiresIn=600)
boundary = uuid.uuid4().hex
parts = []
for k, v in post["fields"].items():
    parts.append(('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (boundary, k, v)).encode())
parts.append(('--%s\r\nContent-Disposition: form-data; name="file"; filename="hello.txt"\r\n'
              'Content-Type: text/plain\r\n\r\n' % boundary).encode() + b"from a form\r\n")
parts.append(("--%s--\r\n" % boundary).encode())
req = urllib.request.Request(post["url"], data=b"".join(parts), method="POST",
                             headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
with urllib.request.urlopen(req) as r:
    assert r.status == 204, r.status
assert alice.get_object(Bucket="features", Key="uploads/hello.txt")["Body"].read() == b"from a form"
print("boto3 features ok")
