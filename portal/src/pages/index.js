// The page modules: each registers its pages (ui.js ACCOUNT_PAGES / TOP_PAGES) and its texts (i18n.addTexts).
import "./orders.js";
import "./statements.js";
import "./settings.js";
import "./methods.js";
import "./subscriptions.js";
import "./partner.js";
import "./operator.js";
import "./queues.js";
