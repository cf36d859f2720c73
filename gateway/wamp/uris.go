package wamp

// Predefined error URIs (Basic and Advanced Profile).
const (
	ErrInvalidURI               = "wamp.error.invalid_uri"
	ErrNoSuchProcedure          = "wamp.error.no_such_procedure"
	ErrProcedureAlreadyExists   = "wamp.error.procedure_already_exists"
	ErrNoSuchRegistration       = "wamp.error.no_such_registration"
	ErrNoSuchSubscription       = "wamp.error.no_such_subscription"
	ErrInvalidArgument          = "wamp.error.invalid_argument"
	ErrCanceled                 = "wamp.error.canceled"
	ErrPayloadSizeExceeded      = "wamp.error.payload_size_exceeded"
	ErrProtocolViolation        = "wamp.error.protocol_violation"
	ErrNotAuthorized            = "wamp.error.not_authorized"
	ErrAuthorizationFailed      = "wamp.error.authorization_failed"
	ErrNoSuchRealm              = "wamp.error.no_such_realm"
	ErrNoSuchRole               = "wamp.error.no_such_role"
	ErrNoMatchingAuthMethod     = "wamp.error.no_matching_auth_method"
	ErrNoAuthMethod             = "wamp.error.no_auth_method"
	ErrAuthenticationDenied     = "wamp.error.authentication_denied"
	ErrAuthenticationFailed     = "wamp.error.authentication_failed"
	ErrAuthenticationRequired   = "wamp.error.authentication_required"
	ErrTimeout                  = "wamp.error.timeout"
	ErrOptionNotAllowed         = "wamp.error.option_not_allowed"
	ErrOptionDisallowedDisclose = "wamp.error.option_disallowed.disclose_me"
	ErrNetworkFailure           = "wamp.error.network_failure"
	ErrUnavailable              = "wamp.error.unavailable"
	ErrNoAvailableCallee        = "wamp.error.no_available_callee"
	ErrFeatureNotSupported      = "wamp.error.feature_not_supported"
	ErrNoSuchSession            = "wamp.error.no_such_session"
	ErrRuntimeError             = "wamp.error.runtime_error"
)

// Close reasons carried by GOODBYE and ABORT.
const (
	CloseSystemShutdown = "wamp.close.system_shutdown"
	CloseRealm          = "wamp.close.close_realm"
	CloseGoodbyeAndOut  = "wamp.close.goodbye_and_out"
	CloseKilled         = "wamp.close.killed"
	CloseNormal         = "wamp.close.normal"
)
