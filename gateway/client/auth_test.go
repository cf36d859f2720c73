package client

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"testing"

	"github.com/wampgate/wampgate/gateway/wamp"
)

func TestSignWAMPCRA(t *testing.T) {
	plain, err := SignWAMPCRA("secret", wamp.Dict{"challenge": "abc"})
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte("secret"))
	mac.Write([]byte("abc"))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); plain != want {
		t.Fatalf("plain = %s, want %s", plain, want)
	}
	salted, err := SignWAMPCRA("secret", wamp.Dict{"challenge": "abc", "salt": "salt123", "iterations": int64(1000), "keylen": int64(32)})
	if err != nil || salted == plain {
		t.Fatalf("salted signature %q err %v must differ from the plain one", salted, err)
	}
	if _, err := SignWAMPCRA("secret", wamp.Dict{"challenge": "abc", "salt": "s", "iterations": int64(0)}); err == nil {
		t.Fatal("zero iterations accepted")
	}
	if _, err := SignWAMPCRA("secret", wamp.Dict{}); err == nil {
		t.Fatal("missing challenge accepted")
	}
}
