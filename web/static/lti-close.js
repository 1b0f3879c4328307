// LTI Dynamic Registration: tell the platform that opened this page that the registration is done.
document.addEventListener("DOMContentLoaded", function () {
  (window.opener || window.parent).postMessage({ subject: "org.imsglobal.lti.close" }, "*");
});
