"""Round trip through the gateway with Debian's python3-boto3 (run by CliClientsTest)."""
import hashlib, os, sys, urllib.request
import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

endpoint, work = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
s3.create_bucket(Bucket="boto3")
big = os.path.join(work, "big")
cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
s3.upload_file(big, "boto3", "dir/big", Config=cfg)
down = os.path.join(work, "big.down")
s3.download_file("boto3", "dir/big", down, Config=cfg)
assert open(big, "rb").read() == open(down, "rb").read(), "download differs"
head = s3.head_object(Bucket="boto3", Key="dir/big")
assert head["ETag"].strip('"').endswith("-4"), head["ETag"]
for i in range(3):
    s3.put_object(Bucket="boto3", Key="sync/f%d" % i, Body=b"file %d" % i)
keys = [o["Key"] for o in s3.list_objects_v2(Bucket="boto3", Prefix="sync/")["Contents"]]
assert keys == ["sync/f0", "sync/f1", "sync/f2"], keys
prefixes = [p["Prefix"] for p in s3.list_objects_v2(Bucket="boto3", Delimiter="/")["CommonPrefixes"]]
assert prefixes == ["dir/", "sync/"], prefixes
url = s3.generate_presigned_url("get_object", Params={"Bucket": "boto3", "Key": "dir/big"}, ExpiresIn=600)
assert urllib.request.urlopen(url).read() == open(big, "rb").read(), "presigned GET differs"
s3.delete_objects(Bucket="boto3", Delete={"Objects": [{"Key": k} for k in keys + ["dir/big"]]})
assert s3.list_objects_v2(Bucket="boto3").get("KeyCount") == 0
s3.delete_bucket(Bucket="boto3")
print("boto3 round trip ok")
